/**
 * Tenancy against real NATS and Redis, through its module as the service boots it: the request
 * endpoints (validated, errors structured, changes announced) and usage accounting from the
 * task-events stream (a final task event is acked once recorded and counted once per task; one
 * that is not a final task event is terminated, never redelivered).
 */
import type { INestApplication } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { Endpoints, names, SYSTEM_TENANT_ID, Consumers, TenancyEndpoints } from '@sb/contracts';
import { Bus, NatsClient } from '@sb/messaging';
import { createLogger, createServiceApp } from '@sb/observability';
import { RedisClient } from '@sb/redis';
import { cleanupJetStream, cleanupRedisKeys, collectMessages, eventually, testEnv, uniquePrefix } from '@sb/testing';
import { loadTenancyConfig } from './config';
import { tenancyModule } from './tenancy.module';

jest.setTimeout(30_000);
const enc = new TextEncoder();

describe('tenancy', () => {
  const prefix = uniquePrefix();
  const n = names(prefix);
  let nc: NatsConnection;
  let app: INestApplication;
  let bus: Bus;

  beforeAll(async () => {
    const { natsUrl, redisUrl } = testEnv();
    nc = await connect({ servers: natsUrl });
    const config = loadTenancyConfig({ NATS_URL: natsUrl, REDIS_URL: redisUrl, SB_PREFIX: prefix, LOG_LEVEL: 'silent' });
    const logger = createLogger('tenancy', 'silent');
    ({ app } = await createServiceApp({ service: 'tenancy', config, module: (l) => tenancyModule(config, l), logger }));
    await app.init();
    bus = app.get(Bus);
  });
  afterAll(async () => {
    await cleanupRedisKeys(app.get(RedisClient).client, `${prefix}:`);
    await app.close();
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  it('serves the tenant endpoints: validated, errors structured, and every change announced', async () => {
    await expect(bus.request(Endpoints.getTenant, { id: SYSTEM_TENANT_ID })).resolves.toMatchObject({ plan: 'system', status: 'active' });
    const changed = collectMessages<{ id: string; status: string }>(nc, n.internal.tenantChanged);
    await changed.ready;
    const t = await bus.request(Endpoints.createTenant, { name: 'acme', plan: 'free' });
    expect(t).toMatchObject({ name: 'acme', plan: 'free', status: 'active' });
    await expect(bus.request(Endpoints.admit, { tenantId: t.id, capability: 'echo' })).resolves.toEqual({ admitted: true });
    const suspended = await bus.request(TenancyEndpoints.patchTenant, { id: t.id, patch: { status: 'suspended' } });
    expect(suspended.status).toBe('suspended');
    await changed.waitForCount(2);
    expect(changed.messages.map((m) => m.data)).toEqual([
      { id: t.id, status: 'active' },
      { id: t.id, status: 'suspended' },
    ]);
    await changed.stop();
    await expect(bus.request(TenancyEndpoints.policy, { tenantId: t.id })).rejects.toMatchObject({ code: 'TENANCY.TENANT_INACTIVE', status: 403 });
    expect((await bus.request(Endpoints.listTenants, {})).map((x) => x.id)).toEqual(expect.arrayContaining([SYSTEM_TENANT_ID, t.id]));
    await expect(bus.request(Endpoints.getTenant, { id: 'tn_nobody' })).rejects.toMatchObject({ code: 'RESOURCE.NOT_FOUND', status: 404 });
    await expect(bus.request(Endpoints.createTenant, { name: '', plan: 'free' })).rejects.toMatchObject({ code: 'REQUEST.INVALID', status: 400 });
    await expect(bus.request(TenancyEndpoints.slots, { op: 'acquire', tenantId: t.id, taskId: 'tk_1', leaseMs: 10_000 })).resolves.toEqual({ granted: true });
  });

  it('counts each finished task once from the task-events stream, and terminates what is not a final task event', async () => {
    const client = app.get(NatsClient);
    const t = await bus.request(Endpoints.createTenant, { name: 'metered', plan: 'free' });
    const stream = Consumers.usage.stream(n);
    const durable = Consumers.usage.durable(n);
    const terminated = collectMessages<{ stream_seq: number }>(nc, `$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${stream}.${durable}`);
    await terminated.ready;
    const at = new Date().toISOString();
    const final = (taskId: string, tokens: number) =>
      enc.encode(JSON.stringify({ taskId, tenantId: t.id, capability: 'echo', status: 'succeeded', at, tokens }));
    const seqs: number[] = [];
    const publish = async (taskId: string, body: Uint8Array) =>
      seqs.push((await client.js.publish(n.tasks.event(t.id, taskId, 'succeeded'), body)).seq);
    await publish('tk_a', final('tk_a', 5));
    await publish('tk_a', final('tk_a', 5)); // the same task again: not counted twice
    await publish('tk_b', final('tk_b', 7));
    await publish('tk_c', enc.encode('not json'));
    await publish('tk_d', enc.encode(JSON.stringify({ taskId: 'tk_d', tenantId: t.id })));
    // Everything settled: nothing waits for an ack or a redelivery.
    await eventually(async () => {
      const info = await client.jsm.consumers.info(stream, durable);
      return info.num_pending === 0 && info.num_ack_pending === 0 && info.ack_floor.stream_seq >= seqs[seqs.length - 1];
    });
    await terminated.waitForCount(2);
    expect(terminated.messages.map((m) => m.data.stream_seq).sort((a, b) => a - b)).toEqual([seqs[3], seqs[4]]);
    await terminated.stop();
    // The durable as tenancy has always created it (an existing deployment keeps its consumer).
    expect((await client.jsm.consumers.info(stream, durable)).config).toMatchObject({
      durable_name: `${n.taskEvents.stream}_tenancy_usage`,
      ack_policy: 'explicit',
      deliver_policy: 'all',
      max_ack_pending: 1_000,
    });
    const report = await bus.request(TenancyEndpoints.usage, { id: t.id, days: 1 });
    expect(report.days[0]).toMatchObject({ tasks: 2, tokens: 12, byCapability: { echo: { tasks: 2, tokens: 12 } } });
  });
});
