/** The auth and tenancy services over real NATS: keys issued, verified, revoked (with the revocation broadcast). */
import type { INestApplication } from '@nestjs/common';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { Endpoints, names } from '@sb/contracts';
import { createLogger, createServiceApp } from '@sb/observability';
import { cleanupJetStream, testEnv, uniquePrefix, waitForMessage } from '@sb/testing';
import { loadTenancyConfig } from '../../tenancy/src/config';
import { tenancyModule } from '../../tenancy/src/tenancy.module';
import { authModule } from './auth.module';
import { loadAuthConfig } from './config';

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('auth service', () => {
  const prefix = uniquePrefix();
  const n = names(prefix);
  const adminKey = `admin-${prefix}-0123456789`;
  const agentKey = `agent-${prefix}-0123456789`;
  let apps: INestApplication[] = [];
  let nc: NatsConnection;
  let bootAuth: (agentKey: string) => Promise<INestApplication>;

  async function call(subject: string, body: unknown) {
    const m = await nc.request(subject, enc.encode(JSON.stringify(body)), { timeout: 5000 });
    return { code: m.headers?.get('Nats-Service-Error-Code') || undefined, body: JSON.parse(dec.decode(m.data)) };
  }

  beforeAll(async () => {
    const env = { NATS_URL: testEnv().natsUrl, SB_PREFIX: prefix, LOG_LEVEL: 'silent' };
    const boot = async (service: string, module: (l: ReturnType<typeof createLogger>) => import('@nestjs/common').DynamicModule) => {
      const { app } = await createServiceApp({ service, config: { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: 1000 }, module });
      await app.init();
      return app;
    };
    apps = [
      await boot('tenancy', (l) => tenancyModule(loadTenancyConfig(env), l)),
      await boot('auth', (l) => authModule(loadAuthConfig({ ...env, SB_BOOTSTRAP_ADMIN_KEY: adminKey, SB_BOOTSTRAP_AGENT_KEY: agentKey }), l)),
    ];
    bootAuth = (agent) => boot('auth', (l) => authModule(loadAuthConfig({ ...env, SB_BOOTSTRAP_ADMIN_KEY: adminKey, SB_BOOTSTRAP_AGENT_KEY: agent }), l));
    nc = await connect({ servers: testEnv().natsUrl });
  });
  afterAll(async () => {
    for (const a of apps.reverse()) await a.close();
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  it('registers the bootstrap admin key in the system tenant', async () => {
    const r = await call(Endpoints.authorize.subject(n), { credential: adminKey, permission: 'admin' });
    expect(r).toMatchObject({ code: undefined, body: { tenantId: 'system', scopes: ['admin'] } });
  });

  it('registers the bootstrap agent key; a replica configured with another one revokes it, with a broadcast', async () => {
    expect(await call(Endpoints.authorize.subject(n), { credential: agentKey, permission: 'agent' })).toMatchObject({ code: undefined, body: { keyId: 'key_bootstrap_agent', tenantId: 'system', scopes: ['agent'] } });
    expect((await call(Endpoints.authorize.subject(n), { credential: adminKey, permission: 'agent' })).code).toBe('403');
    const notice = waitForMessage<{ hash: string; keyId: string; revokedAt: string }>(nc, n.internal.keyRevoked, { timeoutMs: 5000 });
    await notice.ready;
    const next = `agent-next-${prefix}-0123456789`;
    apps.push(await bootAuth(next));
    expect((await notice).data).toMatchObject({ hash: expect.stringMatching(/^[0-9a-f]{64}$/), keyId: expect.stringMatching(/^key_bootstrap_agent_\w+$/), revokedAt: expect.any(String) });
    expect(await call(Endpoints.authorize.subject(n), { credential: agentKey })).toMatchObject({ code: '401', body: { error: { code: 'AUTH.INVALID_CREDENTIALS' } } });
    expect((await call(Endpoints.authorize.subject(n), { credential: next, permission: 'agent' })).body).toMatchObject({ keyId: 'key_bootstrap_agent' });
    const listed = (await call(n.internal.keysList, { tenantId: 'system' })).body as Array<{ id: string; scopes: string[]; revokedAt: string | null }>;
    expect(listed.filter((k) => k.scopes.includes('agent'))).toEqual([
      expect.objectContaining({ id: expect.stringMatching(/^key_bootstrap_agent_\w+$/), revokedAt: expect.any(String) }),
      expect.objectContaining({ id: 'key_bootstrap_agent', revokedAt: null }),
    ]);
    const issued = await call(n.internal.keysCreate, { tenantId: 'system', scopes: ['agent'], name: 'pool' });
    expect(issued.body).toMatchObject({ tenantId: 'system', scopes: ['agent'] });
  });

  it('issues a key for a tenant, verifies it, and revokes it with a broadcast', async () => {
    const tenant = await call(n.internal.tenantsCreate, { name: 'acme' });
    expect(tenant.body).toMatchObject({ status: 'active', plan: 'free' });
    const created = await call(n.internal.keysCreate, { tenantId: tenant.body.id, scopes: ['tasks:submit'], name: 'ci' });
    expect(created.body.key).toMatch(/^sbk_/);
    const ok = await call(n.internal.authorize, { credential: created.body.key, permission: 'tasks:submit' });
    expect(ok.body).toMatchObject({ tenantId: tenant.body.id, keyId: created.body.id });
    const listed = await call(n.internal.keysList, { tenantId: tenant.body.id });
    expect(listed.body).toHaveLength(1);
    const agentForTenant = await call(n.internal.keysCreate, { tenantId: tenant.body.id, scopes: ['agent'] });
    expect(agentForTenant).toMatchObject({ code: '400', body: { error: { code: 'REQUEST.INVALID', message: expect.stringContaining('system tenant') } } });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);

    const notice = waitForMessage(nc, n.internal.keyRevoked, { timeoutMs: 5000 });
    await notice.ready;
    const revoked = await call(n.internal.keysRevoke, { id: created.body.id });
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    expect((await notice).data).toEqual({ hash: expect.stringMatching(/^[0-9a-f]{64}$/), keyId: created.body.id, revokedAt: expect.any(String), expiresAt: null });
    const refused = await call(n.internal.authorize, { credential: created.body.key });
    expect(refused).toMatchObject({ code: '401', body: { error: { code: 'AUTH.INVALID_CREDENTIALS' } } });
  });

  it('admits tasks only for existing, active tenants', async () => {
    expect((await call(n.internal.admit, { tenantId: 'system', capability: 'echo' })).body).toEqual({ admitted: true });
    expect(await call(n.internal.admit, { tenantId: 'tn_missing', capability: 'echo' })).toMatchObject({ code: '403', body: { error: { code: 'TENANCY.TENANT_INACTIVE' } } });
  });
});
