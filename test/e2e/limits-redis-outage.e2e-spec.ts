/**
 * Redis goes away and comes back, with no service restarted: rate limits fall back to each
 * gateway's in-process share (limit / GATEWAY_REPLICAS), quota-limited tenants get 503 with
 * Retry-After, readiness goes not-ready, usage waits in the stream; all recover on their own.
 */
import { eventually, type ServerHandle, startRedisServer } from '@sb/testing';
import { type Fleet, startFleet } from './support/fleet';
import { http } from './support/http';
import { keyFor, tenantOnPlan } from './support/tenancy';

jest.setTimeout(90_000);

describe('Redis outage', () => {
  let redis: ServerHandle;
  let fleet: Fleet;
  afterAll(async () => {
    await fleet?.stop();
    await redis?.destroy();
  });

  it('keeps rate limits in-process, fails quotas closed, and recovers when Redis returns', async () => {
    redis = await startRedisServer();
    fleet = await startFleet({ workers: 1, env: { REDIS_URL: redis.url }, gatewayEnv: { GATEWAY_REPLICAS: '2' } });
    // enterprise: no daily quotas, so only the rate applies; free: quotas, so Redis is required.
    const unmetered = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'enterprise', { limits: { submitRate: 0.001, submitBurst: 6 } });
    const metered = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'free');
    const u = await keyFor(fleet.httpUrl, fleet.adminKey, unmetered);
    const m = await keyFor(fleet.httpUrl, fleet.adminKey, metered);
    const submit = (key: string, body: unknown = { capability: 'echo' }) => http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body });
    expect((await submit(m.key)).status).toBe(202);
    expect((await http(fleet.opsUrl, 'GET', '/health/ready')).status).toBe(200);

    await redis.stop();
    await eventually(async () => expect((await http(fleet.opsUrl, 'GET', '/health/ready')).status).toBe(503), { timeoutMs: 10_000 });

    // In-process: this replica's share of a burst of 6 over 2 replicas is 3.
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await submit(u.key, { capability: 'flaky', input: { failTimes: 0, usage: { tokens: 7 } } }));
    expect(replies.map((r) => r.status)).toEqual([202, 202, 202, 429, 429]);
    expect(replies[3].headers.get('retry-after')).toMatch(/^\d+$/);
    expect(replies[3].headers.get('ratelimit-limit')).toBe('3');

    const closed = await submit(m.key);
    expect(closed).toMatchObject({ status: 503, body: { error: { code: 'SERVICE.UNAVAILABLE', retryable: true, retryAfter: expect.any(Number) } } });
    expect(closed.headers.get('retry-after')).toMatch(/^\d+$/);
    const usage = await http(fleet.httpUrl, 'GET', `/v1/tenants/${unmetered}/usage`, { key: u.key });
    expect(usage.status).toBe(503);
    expect(usage.headers.get('retry-after')).toMatch(/^\d+$/);

    await redis.restart(); // same port, empty
    await eventually(async () => expect((await http(fleet.opsUrl, 'GET', '/health/ready')).status).toBe(200), { timeoutMs: 15_000, intervalMs: 100 });
    expect((await submit(m.key)).status).toBe(202);
    // Back on Redis: the bucket there is fresh and exact for the whole fleet (6).
    const after = await submit(u.key);
    expect(after.status).toBe(202);
    expect(after.headers.get('ratelimit-limit')).toBe('6');
    // The tasks finished during the outage were accounted once Redis was back (events waited in the stream).
    await eventually(
      async () => {
        const r = await http(fleet.httpUrl, 'GET', `/v1/tenants/${unmetered}/usage?days=1`, { key: u.key });
        expect(r.body.days[0].byCapability.flaky).toEqual({ tasks: 3, tokens: 21 });
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
  });
});
