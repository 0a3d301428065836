/**
 * Notification channels against real NATS and real local HTTP receivers: a dead receiver is
 * retried with growing delays and given up while a live one gets each notification once and at
 * once; two replicas enqueueing the same decision deliver it once; a restart re-delivers
 * nothing; a 4xx is not retried; secrets stay out of replies and logs.
 */
import { createHmac } from 'node:crypto';
import { type DynamicModule, type INestApplication, Module } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type AlertNotification, type DeliveryRecord, names } from '@sb/contracts';
import { baseConfigShape, parseConfig } from '@sb/config';
import { coreImports } from '@sb/messaging';
import { type AppLogger, createLogger, createServiceApp, ServiceMetrics } from '@sb/observability';
import { cleanupJetStream, collectMessages, eventually, testEnv, uniquePrefix } from '@sb/testing';
import { z } from 'zod';
import { channelsConfigShape } from './channels-config';
import { ChannelsModule } from './channels.module';
import { NOTIFICATION_OUTBOX, type NotificationOutbox } from './notification-outbox';
import { notification } from './notification.fixture';
import { type Receiver, refusedUrl, startReceiver } from './receiver.fixture';

jest.setTimeout(30_000);

const enc = new TextEncoder();
const dec = new TextDecoder();
const BASE_MS = 300;

@Module({})
class ChannelsTestRoot {}

describe('notification channels', () => {
  const prefix = uniquePrefix();
  const n = names(prefix);
  const apps: INestApplication[] = [];
  const receivers: Receiver[] = [];
  let nc: NatsConnection;
  let logs = '';

  async function boot(level = 'info'): Promise<INestApplication> {
    // The receivers listen on loopback, which the SSRF guard refuses unless allowed.
    const env = { NATS_URL: testEnv().natsUrl, SB_PREFIX: prefix, LOG_LEVEL: level, NOTIFY_BACKOFF_BASE_MS: String(BASE_MS), NOTIFY_BACKOFF_MAX_MS: '5000', ALERTING_WEBHOOK_ALLOW: '127.0.0.1' };
    const config = parseConfig(z.object({ ...baseConfigShape, ...channelsConfigShape }), env);
    const logger = createLogger('alerting', level, { write: (s: string) => void (logs += s) });
    const module = (l: AppLogger): DynamicModule => ({ module: ChannelsTestRoot, imports: [...coreImports('alerting', config, l), ChannelsModule.forRoot(config)] });
    const { app } = await createServiceApp({ service: 'alerting', config: { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: level, SHUTDOWN_GRACE_MS: 1000 }, module, logger });
    await app.init();
    apps.push(app);
    return app;
  }
  const outboxOf = (app: INestApplication) => app.get<NotificationOutbox>(NOTIFICATION_OUTBOX);
  async function call(subject: string, body: unknown): Promise<{ code?: string; body: any }> {
    const m = await nc.request(subject, enc.encode(JSON.stringify(body)), { timeout: 5000 });
    return { code: m.headers?.get('Nats-Service-Error-Code') || undefined, body: JSON.parse(dec.decode(m.data)) };
  }
  async function createChannel(body: Record<string, unknown>): Promise<string> {
    const r = await call(n.channels.create, { name: 'c', ...body });
    if (r.code) throw new Error(JSON.stringify(r.body));
    return r.body.id as string;
  }
  async function receiver(status: (r: unknown) => number | { status: number; body?: string }) {
    const r = await startReceiver((req) => {
      const s = status(req);
      return typeof s === 'number' ? { status: s } : s;
    });
    receivers.push(r);
    return r;
  }
  const deliveries = async (id: string): Promise<DeliveryRecord[]> => (await call(n.channels.deliveries, { id, limit: 100 })).body;
  const idsOf = (r: Receiver) => r.received.map((x) => x.body.id as string);

  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
  });
  afterAll(async () => {
    for (const a of apps.reverse()) await a.close();
    for (const r of receivers) await r.close();
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  it('retries a dead receiver with growing delays, then gives up, while a live one gets each notification once and without waiting', async () => {
    const app = await boot();
    const live = await receiver(() => 200);
    const dead = await receiver(() => 500);
    const liveId = await createChannel({ type: 'webhook', url: `${live.url}/hook` });
    const deadId = await createChannel({ type: 'webhook', url: `${dead.url}/hook`, maxAttempts: 4 });
    const refusedId = await createChannel({ type: 'webhook', url: await refusedUrl(), maxAttempts: 3 });
    const sent = ['d1', 'd2', 'd3'].map((id) => notification({ id, channelIds: [deadId, refusedId, liveId] }));
    for (const x of sent) await outboxOf(app).enqueue(x);

    await live.waitFor(3);
    await dead.waitFor(12);
    await eventually(async () => (await deliveries(refusedId)).filter((d) => d.outcome === 'gave_up').length === 3 && (await deliveries(deadId)).filter((d) => d.outcome === 'gave_up').length === 3, { timeoutMs: 10_000 });

    // The live receiver got each once, and each before the dead one's second attempt at it.
    expect(idsOf(live).sort()).toEqual(['d1', 'd2', 'd3']);
    for (const id of ['d1', 'd2', 'd3']) {
      const attempts = dead.received.filter((r) => r.body.id === id).map((r) => r.at);
      expect(attempts).toHaveLength(4);
      const liveAt = live.received.find((r) => r.body.id === id)!.at;
      expect(liveAt).toBeLessThan(attempts[1]);
      // Gap k is at least base * 2^(k-1) less 20% (backoffMs' jitter), so the delays grow.
      const gaps = attempts.slice(1).map((t, i) => t - attempts[i]);
      gaps.forEach((g, k) => expect(g).toBeGreaterThanOrEqual(0.8 * BASE_MS * 2 ** k - 5));
      expect(gaps[2]).toBeGreaterThan(gaps[0]);
    }
    expect(dead.received).toHaveLength(12); // given up: no fifth attempt was made

    const deadLog = await deliveries(deadId);
    const d1 = deadLog.filter((d) => d.notificationId === 'd1').reverse();
    expect(d1.map((d) => [d.attempt, d.outcome, d.status])).toEqual([
      [1, 'retrying', 500],
      [2, 'retrying', 500],
      [3, 'retrying', 500],
      [4, 'gave_up', 500],
    ]);
    for (const d of d1.slice(0, 3)) {
      // The recorded delay is backoffMs': base · 2^(attempt-1) (far below the 5 s cap here), ±20%.
      expect(d.retryInMs).toBeGreaterThanOrEqual(0.8 * BASE_MS * 2 ** (d.attempt - 1));
      expect(d.retryInMs).toBeLessThanOrEqual(1.2 * BASE_MS * 2 ** (d.attempt - 1));
    }
    const refusedLog = (await deliveries(refusedId)).filter((d) => d.notificationId === 'd2').reverse();
    expect(refusedLog.map((d) => [d.attempt, d.outcome, d.status])).toEqual([
      [1, 'retrying', null],
      [2, 'retrying', null],
      [3, 'gave_up', null],
    ]);
    expect(refusedLog[0].error).toMatch(/ECONNREFUSED/);
    expect((await deliveries(liveId)).map((d) => d.outcome)).toEqual(['delivered', 'delivered', 'delivered']);

    const metrics = await app.get(ServiceMetrics).registry.metrics();
    expect(metrics).toMatch(/sb_notifications_total\{channel_type="webhook",outcome="gave_up",service="alerting"\} 6/);
    expect(metrics).toMatch(/sb_notifications_total\{channel_type="webhook",outcome="delivered",service="alerting"\} 3/);
    expect(metrics).toMatch(/sb_notification_delivery_duration_seconds_count\{service="alerting",channel_type="webhook",outcome="retrying"\} 15/);
  });

  it('does not retry a 4xx refusal', async () => {
    const app = apps[0];
    const refusing = await receiver(() => 404);
    const id = await createChannel({ type: 'slack', url: `${refusing.url}/services/T/B/X` });
    await outboxOf(app).enqueue(notification({ id: 'r1', channelIds: [id] }));
    await eventually(async () => (await deliveries(id)).length === 1);
    expect(await deliveries(id)).toEqual([expect.objectContaining({ notificationId: 'r1', attempt: 1, outcome: 'failed', status: 404, retryInMs: null })]);
    const jsm = await jetstreamManager(nc);
    const info = await jsm.consumers.info(n.channels.deliveryStream, n.channels.deliveryConsumer(id));
    expect([info.num_pending, info.num_ack_pending]).toEqual([0, 0]); // nothing scheduled for later
    expect(refusing.received).toHaveLength(1);
    expect(refusing.received[0].body).toMatchObject({ text: expect.stringContaining('AgentDown'), attachments: [{ color: expect.any(String) }] });
  });

  it('terminates an outbox message that is not a notification, and fans out the next one', async () => {
    const app = apps[0];
    const live = await receiver(() => 200);
    const id = await createChannel({ type: 'webhook', url: live.url });
    const terminated = collectMessages(nc, `$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${n.channels.outboxStream}.${n.channels.fanoutConsumer}`);
    await terminated.ready;
    await jetstream(nc).publish(n.channels.outbox, enc.encode('not json'));
    await jetstream(nc).publish(n.channels.outbox, enc.encode(JSON.stringify({ id: 'no-channels' })));
    await outboxOf(app).enqueue(notification({ id: 'after-junk', channelIds: [id] }));
    expect((await live.waitFor(1)).map((r) => r.body.id)).toEqual(['after-junk']);
    await terminated.waitForCount(2);
    const info = await (await jetstreamManager(nc)).consumers.info(n.channels.outboxStream, n.channels.fanoutConsumer);
    expect([info.num_pending, info.num_ack_pending]).toEqual([0, 0]);
    await terminated.stop();
  });

  it('does not let a retried trigger reach the receiver after a later resolve of the same group', async () => {
    const app = apps[0];
    let refusedOnce = false;
    const pd = await receiver((req) => {
      const r = req as { body: { event_action: string } };
      if (r.body.event_action === 'trigger' && !refusedOnce) {
        refusedOnce = true;
        return { status: 503, headers: { 'Retry-After': '1' } };
      }
      return { status: 202 };
    });
    const id = await createChannel({ type: 'pagerduty', url: pd.url, routingKey: 'rk' });
    await outboxOf(app).enqueue(notification({ id: 'trigger1', kind: 'firing', channelIds: [id], createdAt: '2026-11-21T10:00:00.000Z' }));
    await pd.waitFor(1);
    await outboxOf(app).enqueue(notification({ id: 'resolve1', kind: 'resolved', channelIds: [id], createdAt: '2026-11-21T10:05:00.000Z' }));
    await eventually(async () => (await deliveries(id)).some((d) => d.outcome === 'superseded'), { timeoutMs: 10_000 });
    expect(pd.received.map((r) => r.body.event_action)).toEqual(['trigger', 'resolve']);
    expect((await deliveries(id)).reverse().map((d) => [d.notificationId, d.attempt, d.outcome])).toEqual([
      ['trigger1', 1, 'retrying'],
      ['resolve1', 1, 'delivered'],
      ['trigger1', 2, 'superseded'],
    ]);
  });

  it("sends one alert group's notifications in order without holding up other groups", async () => {
    const app = apps[0];
    const slowFirst = await receiver((req) => ((req as { body: { id: string } }).body.id === 'g1-first' ? { status: 200, delayMs: 300 } : 200));
    const id = await createChannel({ type: 'webhook', url: slowFirst.url });
    await outboxOf(app).enqueue(notification({ id: 'g1-first', groupKey: 'G1', channelIds: [id], createdAt: '2026-11-21T11:00:00.000Z' }));
    await outboxOf(app).enqueue(notification({ id: 'g1-second', groupKey: 'G1', kind: 'resolved', channelIds: [id], createdAt: '2026-11-21T11:01:00.000Z' }));
    await outboxOf(app).enqueue(notification({ id: 'g2', groupKey: 'G2', channelIds: [id], createdAt: '2026-11-21T11:00:30.000Z' }));
    const got = await slowFirst.waitFor(3);
    expect(got.map((r) => r.body.id)).toEqual(['g1-first', 'g2', 'g1-second']);
    expect(got[2].at - got[0].at).toBeGreaterThanOrEqual(295); // the second of G1 waited for the first's answer
    expect(got[1].at - got[0].at).toBeLessThan(got[2].at - got[0].at);
  });

  it('delivers a notification enqueued by two replicas once, and re-delivers nothing after a restart', async () => {
    const second = await boot();
    const first = apps[0];
    const live = await receiver(() => 200);
    const id = await createChannel({ type: 'alertmanager', url: live.url });
    const x = notification({ id: 'twice', channelIds: [id] });
    const stored = async () => (await (await jetstreamManager(nc)).streams.info(n.channels.outboxStream)).state.messages;
    const before = await stored();
    await Promise.all([outboxOf(first).enqueue(x), outboxOf(second).enqueue(x)]);
    await outboxOf(second).enqueue(notification({ id: 'marker1', channelIds: [id] }));
    await live.waitFor(2);
    await eventually(async () => (await deliveries(id)).length === 2);
    expect(live.received.map((r) => r.path)).toEqual(['/api/v2/alerts', '/api/v2/alerts']);
    expect(live.received.map((r) => r.body[0].annotations.sb_group_key)).toEqual([x.groupKey, x.groupKey]);

    // Restart: every instance stops; new ones take over the same streams and consumers.
    for (const a of apps.splice(0)) await a.close();
    const restarted = await boot();
    await outboxOf(restarted).enqueue(x); // a replayed decision inside the dedupe window
    await outboxOf(restarted).enqueue(notification({ id: 'marker2', channelIds: [id] }));
    await live.waitFor(3);
    await eventually(async () => (await deliveries(id)).length === 3);
    const log = await deliveries(id);
    expect(log.map((d) => d.notificationId).sort()).toEqual(['marker1', 'marker2', 'twice']);
    expect(live.received).toHaveLength(3);
    expect((await stored()) - before).toBe(3); // marker1, marker2, and "twice" once though enqueued three times
  });

  it('never returns or logs secrets, while still sending them to the receiver', async () => {
    const app = apps[0];
    const routingKey = 'R0UT1NGKEYsecret0123456789';
    const headerSecret = 'hdr-secret-0123456789abcdef';
    const pd = await receiver(() => ({ status: 400, body: `Invalid routing key ${routingKey}` }));
    const created = await call(n.channels.create, { type: 'pagerduty', name: 'pd', url: `${pd.url}/v2/enqueue?token=query-secret-42`, routingKey, headers: { Authorization: `Bearer ${headerSecret}` } });
    expect(created.code).toBeUndefined();
    const replies = JSON.stringify([created.body, (await call(n.channels.get, { id: created.body.id })).body, (await call(n.channels.list, {})).body]);
    for (const s of [routingKey, headerSecret, 'query-secret-42']) expect(replies).not.toContain(s);
    expect(created.body).toMatchObject({ routingKey: '****6789', headers: { Authorization: '****cdef' }, url: `${pd.url}/v2/enqueue?token=****` });

    const test = await call(n.channels.test, { id: created.body.id });
    expect(test.body).toEqual({ notificationId: expect.any(String), channelId: created.body.id });
    await pd.waitFor(1);
    expect(pd.received[0].body).toMatchObject({ routing_key: routingKey, event_action: 'trigger', dedup_key: `switchboard-test:${created.body.id}` });
    expect(pd.received[0].headers.authorization).toBe(`Bearer ${headerSecret}`);
    await eventually(async () => (await deliveries(created.body.id)).length === 1);
    const log = await deliveries(created.body.id);
    expect(log[0]).toMatchObject({ outcome: 'failed', status: 400, error: 'HTTP 400: Invalid routing key ****' });
    await eventually(() => logs.includes('refused by the receiver'));
    for (const s of [routingKey, headerSecret, 'query-secret-42']) expect(logs).not.toContain(s);
    void app;
  });

  it('signs webhook bodies so the receiver can verify them', async () => {
    const secret = 'whsec_int_0123456789abcdef';
    const hook = await receiver(() => 204);
    const created = await call(n.channels.create, { type: 'webhook', name: 'signed', url: hook.url, signingSecret: secret });
    expect(created.body.signingSecret).toBe('****cdef');
    await call(n.channels.test, { id: created.body.id });
    const [r] = await hook.waitFor(1);
    const ts = Number(r.headers['x-switchboard-timestamp']);
    expect(r.headers['x-switchboard-signature']).toBe(`v1=${createHmac('sha256', secret).update(`${ts}.${r.raw}`).digest('hex')}`);
    expect(Math.abs(Date.now() / 1000 - ts)).toBeLessThan(60);
    expect(r.body).toMatchObject({ version: '1', channelId: created.body.id, kind: 'firing' });
  });

  it('refuses bad channel definitions with the offending path, and unknown ids with 404', async () => {
    const bad = await call(n.channels.create, { type: 'webhook', name: 'w', url: 'file:///etc/passwd' });
    expect(bad).toMatchObject({ code: '400', body: { error: { code: 'REQUEST.INVALID', details: { issues: [{ path: 'url' }] } } } });
    const extra = await call(n.channels.create, { type: 'webhook', name: 'w', url: 'http://x/y', isAdmin: true });
    expect(extra).toMatchObject({ code: '400', body: { error: { code: 'REQUEST.INVALID' } } });
    expect(await call(n.channels.get, { id: 'ch_missing' })).toMatchObject({ code: '404', body: { error: { code: 'RESOURCE.NOT_FOUND' } } });
    expect(await call(n.channels.update, { id: 'ch_missing', patch: { enabled: false } })).toMatchObject({ code: '404' });
  });
});
