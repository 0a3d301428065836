/**
 * The SSRF guard with real NATS and a real local receiver on 127.0.0.1: without an allow-list a
 * loopback URL is refused when saved, and a host name that resolves to a private address is
 * refused when sent (the receiver never hears of it); with 127.0.0.1 allowed the same receiver
 * gets the notification, and a name is delivered to the address the guard checked (the name
 * exists only in the guard's resolver, so a second DNS lookup by the HTTP client would fail).
 * Redirects are not followed, and the delivery log keeps only a status and a short snippet.
 */
import { type DynamicModule, type INestApplication, Module } from '@nestjs/common';
import type { LookupAddress } from 'node:dns';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type DeliveryRecord, names } from '@sb/contracts';
import { baseConfigShape, parseConfig } from '@sb/config';
import { coreImports } from '@sb/messaging';
import { type AppLogger, createLogger, createServiceApp } from '@sb/observability';
import { cleanupJetStream, eventually, testEnv, uniquePrefix } from '@sb/testing';
import { z } from 'zod';
import { channelsConfigShape } from './channels-config';
import { ChannelsModule } from './channels.module';
import { type Receiver, startReceiver } from './receiver.fixture';

jest.setTimeout(30_000);

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The guard's resolver in these tests: two made-up names, one private, one loopback. */
const DNS: Record<string, string> = { 'internal.sb-test.example': '10.20.30.40', 'receiver.sb-test.example': '127.0.0.1' };
const resolve = async (host: string): Promise<LookupAddress[]> => {
  if (!DNS[host]) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return [{ address: DNS[host], family: 4 }];
};

@Module({})
class GuardTestRoot {}

describe('webhook SSRF guard', () => {
  const apps: INestApplication[] = [];
  const prefixes: string[] = [];
  let nc: NatsConnection;
  let receiver: Receiver;

  /** An alerting channels module on its own prefix (each has its own delivery consumers). */
  async function boot(extra: Record<string, string>) {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const env = { NATS_URL: testEnv().natsUrl, SB_PREFIX: prefix, LOG_LEVEL: 'silent', NOTIFY_BACKOFF_BASE_MS: '100', ...extra };
    const config = parseConfig(z.object({ ...baseConfigShape, ...channelsConfigShape }), env);
    const module = (l: AppLogger): DynamicModule => ({ module: GuardTestRoot, imports: [...coreImports('alerting', config, l), ChannelsModule.forRoot(config, { resolve })] });
    const { app } = await createServiceApp({ service: 'alerting', config: { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: 1000 }, module, logger: createLogger('alerting', 'silent') });
    await app.init();
    apps.push(app);
    const n = names(prefix);
    const call = async (subject: string, body: unknown): Promise<{ code?: string; body: any }> => {
      const m = await nc.request(subject, enc.encode(JSON.stringify(body)), { timeout: 5000 });
      return { code: m.headers?.get('Nats-Service-Error-Code') || undefined, body: JSON.parse(dec.decode(m.data)) };
    };
    const create = (url: string) => call(n.channels.create, { type: 'webhook', name: 'guarded', url, maxAttempts: 3 });
    const deliveries = async (id: string): Promise<DeliveryRecord[]> => (await call(n.channels.deliveries, { id, limit: 10 })).body;
    /** Sends the channel's test notification and waits for its first logged outcome. */
    const test = async (id: string): Promise<DeliveryRecord> => {
      await call(n.channels.test, { id });
      return eventually(async () => (await deliveries(id))[0] ?? false);
    };
    return { n, call, create, test };
  }

  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
    receiver = await startReceiver(() => ({ status: 200 }));
  });
  afterAll(async () => {
    for (const a of apps.reverse()) await a.close();
    await receiver.close();
    for (const p of prefixes) await cleanupJetStream(nc, p);
    await nc.drain();
  });

  it('without an allow-list, refuses a loopback URL when saved and a name resolving to a private address when sent', async () => {
    const a = await boot({});
    const port = new URL(receiver.url).port;
    for (const url of [`${receiver.url}/hook`, `http://[::ffff:127.0.0.1]:${port}/hook`, `http://localhost:${port}/hook`, 'http://169.254.169.254/latest/meta-data/']) {
      const refused = await a.create(url);
      expect(refused).toMatchObject({ code: '400', body: { error: { code: 'REQUEST.INVALID', details: { issues: [{ path: 'url', message: expect.stringMatching(/^refused: .* is not a public address/) }] } } } });
    }
    expect((await a.call(a.n.channels.list, {})).body).toEqual([]);

    for (const host of ['internal.sb-test.example', 'receiver.sb-test.example']) {
      const created = await a.create(`http://${host}:${port}/hook`);
      expect(created.code).toBeUndefined();
      const outcome = await a.test(created.body.id);
      // Refused before any connection: permanent (not retried), no status, and nothing of a response.
      expect(outcome).toMatchObject({ outcome: 'failed', attempt: 1, status: null, error: expect.stringMatching(new RegExp(`^refused: ${host.replace(/\./g, '\\.')} \\(${DNS[host].replace(/\./g, '\\.')}\\) is not a public address`)) });
    }
    expect(receiver.received).toHaveLength(0);
  });

  it('with the address allowed, delivers to it, connecting to the address the guard checked', async () => {
    const a = await boot({ ALERTING_WEBHOOK_ALLOW: '127.0.0.1' });
    const port = new URL(receiver.url).port;
    const literal = await a.create(`${receiver.url}/literal`);
    expect(literal.code).toBeUndefined();
    expect(await a.test(literal.body.id)).toMatchObject({ outcome: 'delivered', status: 200, error: null });
    const named = await a.create(`http://receiver.sb-test.example:${port}/named`);
    expect(await a.test(named.body.id)).toMatchObject({ outcome: 'delivered', status: 200 });
    expect(receiver.received.map((r) => [r.path, r.headers.host])).toEqual([
      ['/literal', `127.0.0.1:${port}`],
      ['/named', `receiver.sb-test.example:${port}`],
    ]);
    // Still only 127.0.0.1: the private name stays refused.
    const internal = await a.create(`http://internal.sb-test.example:${port}/hook`);
    expect(await a.test(internal.body.id)).toMatchObject({ outcome: 'failed', error: expect.stringContaining('(private)') });
  });

  it('follows no redirect, and keeps only a status and a short sanitized snippet of what a target answered', async () => {
    const a = await boot({ ALERTING_WEBHOOK_ALLOW: '127.0.0.1' });
    const elsewhere = await startReceiver(() => ({ status: 200 }));
    const body = `ERR \u00e9\u0001 ${'x'.repeat(100)} password=hunter2 ${'y'.repeat(500)}`;
    const target = await startReceiver((r) => (r.path === '/redirect' ? { status: 302, headers: { location: `${elsewhere.url}/stolen` } } : { status: 500, body }));
    try {
      const redirect = await a.create(`${target.url}/redirect`);
      expect(await a.test(redirect.body.id)).toMatchObject({ outcome: 'failed', status: 302, error: 'HTTP 302' });
      const failing = await a.create(`${target.url}/fail`);
      const outcome = await a.test(failing.body.id);
      // Non-ASCII bytes and control characters become `?` (é is two bytes); 64 characters at most.
      expect(outcome).toMatchObject({ outcome: 'retrying', status: 500, error: `HTTP 500: ERR ??? ${'x'.repeat(64 - 8)}` });
      expect(elsewhere.received).toHaveLength(0);
    } finally {
      await elsewhere.close();
      await target.close();
    }
  });
});
