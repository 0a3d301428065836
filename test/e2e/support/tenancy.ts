/** Tenancy helpers for e2e suites: tenants with a plan and limits, keys with ids, raw NATS submits. */
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { http } from './http';

export async function tenantOnPlan(base: string, adminKey: string, plan: string, patch?: Record<string, unknown>): Promise<string> {
  const t = await http(base, 'POST', '/v1/tenants', { key: adminKey, body: { name: `t-${Math.random().toString(36).slice(2, 8)}`, plan } });
  if (t.status !== 201) throw new Error(`tenant create failed: ${t.status} ${JSON.stringify(t.body)}`);
  if (patch) {
    const p = await http(base, 'PATCH', `/v1/tenants/${t.body.id}`, { key: adminKey, body: patch });
    if (p.status !== 200) throw new Error(`tenant patch failed: ${p.status} ${JSON.stringify(p.body)}`);
  }
  return t.body.id;
}

export async function keyFor(base: string, adminKey: string, tenantId: string, scopes = ['tasks:submit', 'tasks:read']): Promise<{ id: string; key: string }> {
  const k = await http(base, 'POST', '/v1/keys', { key: adminKey, body: { tenantId, scopes } });
  if (k.status !== 201) throw new Error(`key create failed: ${k.status} ${JSON.stringify(k.body)}`);
  return { id: k.body.id, key: k.body.key };
}

/** A submit over NATS with every reply header. */
export async function natsSubmit(nc: NatsConnection, prefix: string, key: string, body: unknown) {
  const h = natsHeaders();
  h.set('Authorization', `Bearer ${key}`);
  const reply = await nc.request(`${prefix}.v1.tasks.submit`, new TextEncoder().encode(JSON.stringify(body)), { headers: h, timeout: 15_000 });
  return { body: JSON.parse(new TextDecoder().decode(reply.data)), header: (n: string) => reply.headers?.get(n) || undefined };
}
