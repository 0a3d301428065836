/**
 * The bus client and the no-wait pull against a real NATS server with JetStream. Serving (replies,
 * errors on the wire, shutdown) is the transport's: see transport/sb-transport.int-spec.ts.
 */
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AckPolicy } from '@nats-io/jetstream';
import { Endpoints } from '@sb/contracts';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { createLogger } from '@sb/observability';
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
});
