/**
 * A flood of bad credentials (issue 12, #4), from one client over HTTP and over NATS, against a
 * gateway whose pre-authentication limit is 5 refusals a second with a burst of 20:
 *  - beyond the budget the client gets 429 + Retry-After before its credential is looked at,
 *    while a key it already used keeps working from the same address;
 *  - the security events are aggregated: a handful stored, not one per request, and their
 *    counts add up to every refused request (refused as invalid, or limited), as the report says.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { names, type SecurityEvent, securityEventNames } from '@sb/contracts';
import { collectMessages, eventually, type ReceivedMessage } from '@sb/testing';
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { natsRequest } from './support/nats-client';

jest.setTimeout(90_000);

const RATE = 5;
const BURST = 20;
const FLOOD = 200;

const counted = (events: Array<ReceivedMessage<SecurityEvent>>) => events.reduce((n, m) => n + (m.data.count ?? 1), 0);

/** `total` calls of `call`, `concurrency` at a time; resolves with their results in order. */
async function flood<T>(total: number, concurrency: number, call: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(total);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        out[i] = await call(i);
      }
    }),
  );
  return out;
}

describe('a flood of bad credentials', () => {
  let fleet: Fleet;
  let tenant: { tenantId: string; key: string };
  let tenantNc: NatsConnection;

  beforeAll(async () => {
    fleet = await startFleet({ workers: 0, collectorEnv: false, gatewayEnv: { PREAUTH_RATE: String(RATE), PREAUTH_BURST: String(BURST) } });
    tenant = await tenantWithKey(fleet.httpUrl, fleet.adminKey, ['tasks:read', 'tasks:submit']);
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: tenant.key })).status).toBe(200);
    // The tenant's own NATS connection (its credentials, when the fleet's server has NATS auth).
    const { creds, inboxPrefix } = fleet.secureNats ? await fleet.natsCreds(tenant.key) : { creds: '', inboxPrefix: '' };
    tenantNc = await connect({ servers: fleet.env.NATS_URL, ...(creds ? { authenticator: credsAuthenticator(new TextEncoder().encode(creds)), inboxPrefix } : {}) });
  });
  afterAll(async () => {
    await tenantNc?.drain();
    await fleet?.stop();
  });

  it('over HTTP: 429 before any lookup once the address is out of budget, a known key still passes, and the events add up', async () => {
    const events = collectMessages<SecurityEvent>(fleet.nc, securityEventNames(fleet.prefix).all, { filter: (m) => m.data.transport === 'http' });
    await events.ready;
    const started = Date.now();
    const replies = await flood(FLOOD, 20, (i) => http(fleet.httpUrl, 'GET', '/v1/tasks', { key: `sbk_${String(i).padStart(38, 'x')}` }));
    const elapsedS = (Date.now() - started) / 1000;
    const refused = replies.filter((r) => r.status === 401).length;
    const limited = replies.filter((r) => r.status === 429);
    expect(refused + limited.length).toBe(FLOOD);
    // Only the budget was looked up: the burst, and what refilled meanwhile.
    expect(refused).toBeLessThanOrEqual(BURST + Math.ceil(RATE * elapsedS));
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0].body).toEqual({ error: { code: 'RATE_LIMIT.EXCEEDED', message: expect.any(String), retryable: true, retryAfter: expect.any(Number) } });
    expect(Number(limited[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The same address with a key it already used: served.
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: tenant.key })).status).toBe(200);

    // Every refusal is counted, in a handful of events: one per second per source and reason.
    await eventually(() => counted(events.messages) >= FLOOD, { timeoutMs: 10_000, intervalMs: 100, description: 'the aggregated events to count the flood' });
    expect(counted(events.messages)).toBe(FLOOD);
    expect(events.messages.length).toBeLessThan(FLOOD / 10);
    expect(new Set(events.messages.map((m) => m.data.source))).toEqual(new Set(['ip:127.0.0.1']));
    const byType = (t: SecurityEvent['type']) => counted(events.messages.filter((m) => m.data.type === t));
    expect({ invalid: byType('invalid_credentials'), limited: byType('rate_limited') }).toEqual({ invalid: refused, limited: limited.length });
    // What the stream stored is what was published: the handful.
    const stream = await (await jetstreamManager(fleet.nc)).streams.info(securityEventNames(fleet.prefix).stream);
    expect(stream.state.messages).toBe(events.messages.length);
    expect(stream.config).toMatchObject({ max_msgs: expect.any(Number), max_bytes: expect.any(Number), discard: 'old' });
    expect(stream.config.max_msgs).toBeGreaterThan(0);

    // The report counts the refusals, not the events.
    await eventually(
      async () => {
        const r = await http(fleet.httpUrl, 'GET', '/v1/security/report?hours=1', { key: fleet.adminKey });
        return r.body.total === FLOOD && r.body;
      },
      { timeoutMs: 10_000, intervalMs: 200, description: 'the report to count the flood' },
    );
    await events.stop();
  });

  it('over NATS: the same per connection, from the requests the gateway sees', async () => {
    const events = collectMessages<SecurityEvent>(fleet.nc, securityEventNames(fleet.prefix).all, { filter: (m) => m.data.transport === 'nats' });
    await events.ready;
    const subject = names(fleet.prefix).tasks.get;
    const replies = await flood(FLOOD / 2, 10, (i) => natsRequest(tenantNc, subject, { taskId: 'tsk_x' }, { key: `sbk_${String(i).padStart(38, 'y')}` }));
    const refused = replies.filter((r) => r.errorCode === '401').length;
    const limited = replies.filter((r) => r.errorCode === '429');
    expect(refused + limited.length).toBe(FLOOD / 2);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]).toMatchObject({ body: { error: { code: 'RATE_LIMIT.EXCEEDED', retryable: true } }, retryAfter: expect.stringMatching(/^\d+$/) });
    // The tenant's own key on the same connection: served (not found, as any unknown task is).
    expect((await natsRequest(tenantNc, subject, { taskId: 'tsk_x' }, { key: tenant.key })).errorCode).toBe('404');

    await eventually(() => counted(events.messages) >= FLOOD / 2, { timeoutMs: 10_000, intervalMs: 100, description: 'the aggregated events to count the flood' });
    expect(counted(events.messages)).toBe(FLOOD / 2);
    expect(events.messages.length).toBeLessThan(FLOOD / 20);
    const sources = new Set(events.messages.map((m) => m.data.source));
    expect(sources.size).toBe(1);
    expect([...sources][0]).toMatch(/^nats:/);
    await events.stop();
  });
});
