/** Concurrent changes to one tenant both land (compare-and-set on the KV revision). */
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { cleanupJetStream, testEnv, uniquePrefix } from '@sb/testing';
import { KvTenantStore } from './tenant-store';

describe('KvTenantStore', () => {
  const prefix = uniquePrefix();
  let nc: NatsConnection;
  let store: KvTenantStore;

  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
    store = new KvTenantStore(await new Kvm(jetstream(nc)).create(`${prefix.toUpperCase()}_tenants`, { history: 1 }));
  });
  afterAll(async () => {
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  it('applies concurrent updates without losing one', async () => {
    const at = new Date().toISOString();
    await store.insert({ id: 'tn_x', name: 'x', plan: 'free', status: 'active', createdAt: at, updatedAt: at });
    const changes = Array.from({ length: 10 }, (_, i) => store.update('tn_x', (t) => ({ ...t, limits: { ...(t.limits ?? {}), [`k${i}`]: i } as never })));
    await Promise.all(changes);
    const t = await store.get('tn_x');
    expect(Object.keys(t!.limits ?? {}).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}`).sort());
    expect(await store.update('tn_missing', (x) => x)).toBeUndefined();
  });
});
