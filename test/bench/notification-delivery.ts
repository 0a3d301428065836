/**
 * Notification delivery: enqueue → the receiver has the POST. Switchboard's channels (the
 * JetStream outbox, fan-out to the per-channel work stream, the channel's consumer, fetch,
 * the delivery-log publish) built as ChannelsModule builds them, in-process, against a local
 * node:http receiver, vs the raw floor: plain nats.js publishing to one work-queue stream and a
 * consume() loop POSTing with fetch and acking — the least that durably accepts a notification
 * and delivers it. Closed loop at concurrency 1 and 16, one alert group per notification (a
 * group's notifications are sent one at a time); ratios are Switchboard / floor.
 *
 * NATS authentication on: the channels as alerting's own user, the channel created through the
 * gateway's user (as the gateway forwards it), the floor as a platform user.
 *
 * Alone: `node dist/test/bench/notification-delivery.js` (starts its own nats-server).
 */
import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DynamicModule, type INestApplication, Module } from '@nestjs/common';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { names } from '@sb/contracts';
import { baseConfigShape, parseConfig } from '@sb/config';
import { coreImports } from '@sb/messaging';
import { type AppLogger, createServiceApp } from '@sb/observability';
import { z } from 'zod';
import { channelsConfigShape } from '../../apps/alerting/src/channels/channels-config';
import { ChannelsModule } from '../../apps/alerting/src/channels/channels.module';
import { NOTIFICATION_OUTBOX, type NotificationOutbox } from '../../apps/alerting/src/channels/notification-outbox';
import { notification } from '../../apps/alerting/src/channels/notification.fixture';
import type { BenchNats } from './bench-nats';
import { type BenchSettings, benchSettings, closedLoop, type LoadResult, withTimeout } from './measure';
import { runStandalone } from './standalone';

const OP_TIMEOUT_MS = 10_000;
const enc = new TextEncoder();

@Module({})
class ChannelsBenchRoot {}

/** A receiver that resolves the waiter registered for each notification id it gets. */
async function startReceiver(): Promise<{ url: string; waitFor(id: string): Promise<void>; close(): Promise<void> }> {
  const waiting = new Map<string, () => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      res.writeHead(200).end();
      const id = (JSON.parse(Buffer.concat(chunks).toString()) as { id: string }).id;
      waiting.get(id)?.();
      waiting.delete(id);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    waitFor: (id) => new Promise<void>((resolve) => waiting.set(id, resolve)),
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

async function startSwitchboard(nats: BenchNats, prefix: string, receiverUrl: string): Promise<{ outbox: NotificationOutbox; channelId: string; app: INestApplication }> {
  const env = { NATS_URL: nats.url, ...(await nats.serviceEnv(prefix, 'alerting')), SB_PREFIX: prefix };
  const config = parseConfig(z.object({ ...baseConfigShape, ...channelsConfigShape }), { ...env, LOG_LEVEL: 'warn', NOTIFY_CHANNEL_CONCURRENCY: '16', ALERTING_WEBHOOK_ALLOW: '127.0.0.1' });
  const module = (l: AppLogger): DynamicModule => ({ module: ChannelsBenchRoot, imports: [...coreImports('alerting', config, l), ChannelsModule.forRoot(config)] });
  const { app } = await createServiceApp({ service: 'alerting', config: { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: 2000 }, module });
  await app.init();
  const nc = await connect(await nats.service(prefix, 'gateway', 'bench-gateway'));
  const reply = await nc.request(names(prefix).channels.create, enc.encode(JSON.stringify({ type: 'webhook', name: 'bench', url: receiverUrl })), { timeout: 5000 });
  await nc.drain();
  return { app, outbox: app.get<NotificationOutbox>(NOTIFICATION_OUTBOX), channelId: (JSON.parse(new TextDecoder().decode(reply.data)) as { id: string }).id };
}

/** The floor: one work-queue stream, msgID dedupe, consume() → fetch POST → ack. */
async function startFloor(nats: BenchNats, receiverUrl: string): Promise<{ enqueue(id: string): Promise<unknown>; close(): Promise<void> }> {
  const nc: NatsConnection = await connect(await nats.platform('bench-notify-floor'));
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'BENCH_NOTIFY_FLOOR', subjects: ['bench.notify.floor'], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
  await jsm.consumers.add('BENCH_NOTIFY_FLOOR', { durable_name: 'floor', ack_policy: AckPolicy.Explicit, max_ack_pending: 10_000 });
  const js = jetstream(nc);
  const messages = await (await js.consumers.get('BENCH_NOTIFY_FLOOR', 'floor')).consume({ max_messages: 64 });
  void (async () => {
    for await (const m of messages) {
      void fetch(receiverUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: m.data, signal: AbortSignal.timeout(5000) }).then(
        async (r) => (await r.arrayBuffer(), r.ok ? m.ack() : m.nak(1000)),
        () => m.nak(1000),
      );
    }
  })();
  return {
    enqueue: (id) => js.publish('bench.notify.floor', enc.encode(JSON.stringify(notification({ id }))), { msgID: id }),
    close: async () => {
      await messages.close();
      await nc.drain();
    },
  };
}

export interface NotificationBenchResult {
  lines: string[];
  results: { name: string; concurrency: number; result: LoadResult }[];
}

export async function notificationDeliveryBench(nats: BenchNats, s: BenchSettings, log: (m: string) => void): Promise<NotificationBenchResult> {
  const receiver = await startReceiver();
  const sb = await startSwitchboard(nats, 'sbnotifybench', receiver.url);
  const floor = await startFloor(nats, receiver.url);
  let seq = 0;
  const viaSwitchboard = async () => {
    const id = `sb-${++seq}`;
    const got = receiver.waitFor(id);
    await sb.outbox.enqueue(notification({ id, groupKey: `group-${id}`, channelIds: [sb.channelId], createdAt: new Date().toISOString() }));
    await withTimeout(got, OP_TIMEOUT_MS, 'notification delivery');
  };
  const viaFloor = async () => {
    const id = `floor-${++seq}`;
    const got = receiver.waitFor(id);
    await floor.enqueue(id);
    await withTimeout(got, OP_TIMEOUT_MS, 'floor delivery');
  };
  const results: NotificationBenchResult['results'] = [];
  const lines: string[] = [];
  try {
    for (const c of [1, 16]) {
      const opts = { concurrency: c, durationMs: s.durationMs, warmupMs: s.warmupMs };
      log(`notification delivery, concurrency ${c}: floor`);
      const f = await closedLoop(viaFloor, opts);
      log(`notification delivery, concurrency ${c}: switchboard`);
      const r = await closedLoop(viaSwitchboard, opts);
      results.push({ name: 'raw floor (1 stream, consume, fetch)', concurrency: c, result: f }, { name: 'Switchboard channels', concurrency: c, result: r });
      const ms = (v: number) => `${v.toFixed(2)} ms`;
      lines.push(
        `Notification delivery (enqueue → receiver has the POST), concurrency ${c}: Switchboard ${Math.round(r.throughput)}/s, p50 ${ms(r.p50)}, p99 ${ms(r.p99)}` +
          ` vs raw floor ${Math.round(f.throughput)}/s, p50 ${ms(f.p50)}, p99 ${ms(f.p99)} — ${(r.throughput / f.throughput).toFixed(2)}× floor ops/s, p99 ${(r.p99 / f.p99).toFixed(2)}× floor` +
          `${r.errors + f.errors ? ` (errors: ${r.errors} / ${f.errors})` : ''}.`,
      );
    }
  } finally {
    await floor.close().catch(() => undefined);
    await sb.app.close().catch(() => undefined);
    await receiver.close();
  }
  return { lines, results };
}

if (require.main === module) {
  runStandalone('notification-delivery', { redis: false }, ({ nats, log }) => notificationDeliveryBench(nats, benchSettings(process.env), log));
}
