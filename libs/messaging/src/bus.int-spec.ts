/** The bus and the no-wait pull against a real NATS server with JetStream. */
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AckPolicy } from '@nats-io/jetstream';
import { ConflictError, Endpoints, names } from '@sb/contracts';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { createLogger, ServiceMetrics } from '@sb/observability';
import { cleanupJetStream, eventually, testEnv, uniquePrefix } from '@sb/testing';
import { Bus } from './bus';
import { coreImports } from './core-imports';
import { NatsClient } from './nats-client';
import { pullNoWait } from './pull';

describe('Bus over real NATS', () => {
  let app: INestApplication;
  let bus: Bus;
  let client: NatsClient;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    const logger = createLogger('test', 'silent');
    const mod = await Test.createTestingModule({ imports: coreImports('test', { NATS_URL: testEnv().natsUrl, SB_PREFIX: prefix, REQUEST_TIMEOUT_MS: 2000 }, logger) }).compile();
    app = mod.createNestApplication(new FastifyAdapter());
    await app.init();
    bus = app.get(Bus);
    client = app.get(NatsClient);
  });
  afterAll(async () => {
    await cleanupJetStream(client.nc, prefix);
    await app.close();
  });

  it('validates, answers, and maps errors to headers and back', async () => {
    bus.serve(Endpoints.getTenant, async (req) => {
      if (req.id === 'taken') throw new ConflictError('already there');
      if (req.id === 'crash') throw new Error('secret internals');
      return { id: req.id, name: 'n', plan: 'free', status: 'active' as const, createdAt: 'x', updatedAt: 'x' };
    });
    await expect(bus.request(Endpoints.getTenant, { id: 'a' })).resolves.toMatchObject({ id: 'a' });
    await expect(bus.request(Endpoints.getTenant, { id: 'taken' })).rejects.toMatchObject({ code: 'RESOURCE.CONFLICT', status: 409 });
    await expect(bus.request(Endpoints.getTenant, { id: 'bad id!' })).rejects.toMatchObject({ code: 'REQUEST.INVALID', status: 400 });
    const crash = await bus.request(Endpoints.getTenant, { id: 'crash' }).catch((e) => e);
    expect(crash).toMatchObject({ code: 'INTERNAL', status: 500 });
    expect(crash.message).not.toContain('secret');
    // The raw reply carries the Nats-Service-Error headers a plain client reads.
    const raw = await client.nc.request(names(prefix).internal.tenantsGet, new TextEncoder().encode('not json'));
    expect(raw.headers?.get('Nats-Service-Error-Code')).toBe('400');
    expect(JSON.parse(new TextDecoder().decode(raw.data))).toMatchObject({ error: { code: 'REQUEST.MALFORMED', retryable: false } });
    // And it was counted.
    const metrics = await app.get(ServiceMetrics).registry.metrics();
    expect(metrics).toMatch(/sb_requests_total\{[^}]*code="RESOURCE.CONFLICT"[^}]*\} 1/);
  });

  it('turns "nobody is serving" into a retryable 503', async () => {
    await expect(bus.request(Endpoints.admit, { tenantId: 'x', capability: 'echo' })).rejects.toMatchObject({ status: 503, retryable: true, retryAfter: 1 });
  });

  it('pulls without waiting: nothing → at once, then a batch', async () => {
    const stream = `${prefix.toUpperCase()}_PULL`;
    await client.jsm.streams.add({ name: stream, subjects: [`${prefix}.pull.>`] });
    await client.jsm.consumers.add(stream, { durable_name: 'c', ack_policy: AckPolicy.Explicit });
    const t0 = Date.now();
    expect(await pullNoWait(client.nc, stream, 'c', 5)).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(900); // fetch() would have waited its 1 s minimum
    for (let i = 0; i < 3; i++) await client.js.publish(`${prefix}.pull.x`, new TextEncoder().encode(String(i)));
    const got = await pullNoWait(client.nc, stream, 'c', 5);
    expect(got.map((m) => new TextDecoder().decode(m.data))).toEqual(['0', '1', '2']);
    expect(got[0].info.deliveryCount).toBe(1);
    got[0].nak(0);
    for (const m of got.slice(1)) m.ack();
    // The server applies acks and naks asynchronously: poll until the nak'd message is back.
    const again = await eventually(async () => {
      const got = await pullNoWait(client.nc, stream, 'c', 5);
      return got.length > 0 && got;
    });
    expect(again).toHaveLength(1);
    expect(again[0].info.deliveryCount).toBe(2);
    again[0].ack();
  });

  it('on shutdown stops taking requests but lets the ones being served reply', async () => {
    const logger = createLogger('test', 'silent');
    const p2 = uniquePrefix();
    const mod = await Test.createTestingModule({ imports: coreImports('test', { NATS_URL: testEnv().natsUrl, SB_PREFIX: p2, REQUEST_TIMEOUT_MS: 2000, SHUTDOWN_GRACE_MS: 5000 }, logger) }).compile();
    const other = mod.createNestApplication(new FastifyAdapter());
    await other.init();
    let started!: () => void;
    const handlerStarted = new Promise<void>((r) => (started = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    other.get(Bus).serve(Endpoints.getTenant, async (req) => {
      started();
      await released;
      return { id: req.id, name: 'n', plan: 'free', status: 'active' as const, createdAt: 'x', updatedAt: 'x' };
    });
    const reply = client.nc.request(names(p2).internal.tenantsGet, new TextEncoder().encode('{"id":"slow"}'), { timeout: 5000 });
    await handlerStarted;
    const closing = other.close();
    // Release the handler only once this instance has stopped taking requests (nobody answers the subject any more).
    await eventually(async () => {
      const r = await client.nc.request(names(p2).internal.tenantsGet, new TextEncoder().encode('{"id":"probe"}'), { timeout: 500 }).then(() => false, (e: Error) => /no responders/i.test(`${e.message} ${(e.cause as Error)?.message ?? ''}`));
      return r;
    });
    release();
    const msg = await reply;
    expect(JSON.parse(new TextDecoder().decode(msg.data))).toMatchObject({ id: 'slow' });
    await closing;
  });
});
