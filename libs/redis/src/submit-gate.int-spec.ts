/** The submit gate and usage recording on a real Redis: exact under concurrency, nothing charged on refusal. */
import { randomBytes } from 'node:crypto';
import { testEnv } from '@sb/testing';
import type { Redis } from 'ioredis';
import { createRedisConnection } from './redis-connection';
import { createKeyBuilder, type RedisKeyspace } from './redis-keys';
import { quotaKeys, SubmitGate, type SubmitGateRequest, utcDay } from './submit-gate';
import { UsageStore } from './usage-store';

async function connect(): Promise<Redis> {
  const c = createRedisConnection({ url: testEnv().redisUrl }, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  await c.connect();
  return c;
}

describe('SubmitGate + UsageStore (Lua on real Redis)', () => {
  const prefix = `sbtest-sg-${randomBytes(6).toString('hex')}`;
  let a: Redis;
  let b: Redis;
  let ks: RedisKeyspace<Redis>;
  let gateA: SubmitGate;
  let gateB: SubmitGate;
  const slow = { rate: 0.001, burst: 100 }; // refill negligible during a test
  const req = (over: Partial<SubmitGateRequest> = {}): SubmitGateRequest => ({ tenantId: 't1', keyId: 'k1', key: slow, tenant: slow, tasksPerDay: null, tokensPerDay: null, ...over });

  beforeAll(async () => {
    [a, b] = await Promise.all([connect(), connect()]);
    ks = { client: a, key: createKeyBuilder(prefix) };
    gateA = new SubmitGate(ks);
    gateB = new SubmitGate({ client: b, key: createKeyBuilder(prefix) });
  });
  afterAll(async () => {
    const keys = await a.keys(`${prefix}:*`);
    if (keys.length > 0) await a.del(...keys);
    await Promise.all([a.quit(), b.quit()]);
  });

  it('admits exactly the burst of 500 concurrent checks over two connections', async () => {
    const r = req({ tenantId: 'conc', keyId: 'kc' });
    const ds = await Promise.all(Array.from({ length: 500 }, (_, i) => (i % 2 ? gateA : gateB).check(r)));
    const allowed = ds.filter((d) => d.outcome === 'allowed');
    expect(allowed).toHaveLength(100);
    expect(allowed.map((d) => d.remaining).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    for (const d of ds.filter((x) => x.outcome !== 'allowed')) expect(d).toMatchObject({ outcome: 'rate_limited', remaining: 0, limit: 100 });
  });

  it('checks the key bucket and the tenant bucket; a refusal by one charges neither', async () => {
    const tenant = { rate: 0.001, burst: 3 };
    const k1 = req({ tenantId: 'kt', keyId: 'ka', key: { rate: 0.001, burst: 1 }, tenant });
    expect(await gateA.check(k1)).toMatchObject({ outcome: 'allowed', remaining: 0, limit: 1 });
    const refused = await gateA.check(k1);
    expect(refused).toMatchObject({ outcome: 'rate_limited', limit: 1 });
    expect(refused.retryAfterMs).toBeGreaterThan(900_000);
    // The key's refusal took nothing from the tenant: two more pass on another key, then the tenant is full.
    const k2 = req({ tenantId: 'kt', keyId: 'kb', key: slow, tenant });
    expect(await gateA.check(k2)).toMatchObject({ outcome: 'allowed', remaining: 1, limit: 3 });
    expect(await gateA.check(k2)).toMatchObject({ outcome: 'allowed', remaining: 0 });
    expect(await gateA.check(k2)).toMatchObject({ outcome: 'rate_limited', remaining: 0, limit: 3 });
  });

  it('counts tasks per day and refuses past the quota, with Retry-After until the day ends', async () => {
    const r = req({ tenantId: 'quota', keyId: 'kq', tasksPerDay: 2 });
    expect((await gateA.check(r)).outcome).toBe('allowed');
    expect((await gateB.check(r)).outcome).toBe('allowed');
    const refused = await gateA.check(r);
    expect(refused.outcome).toBe('tasks_quota');
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(86_400_000);
    const q = quotaKeys(ks, 'quota', utcDay(new Date()).day);
    expect(await a.get(q.tasks)).toBe('2');
    expect(await a.pttl(q.tasks)).toBeGreaterThan(0);
  });

  it('records usage once per task and refuses submissions once the tokens quota is used', async () => {
    const usage = new UsageStore(ks);
    const now = new Date();
    expect(await usage.record('tok', 'task-1', 'echo', 60, now)).toBe(true);
    expect(await usage.record('tok', 'task-1', 'echo', 60, now)).toBe(false); // redelivered: not counted twice
    expect(await usage.record('tok', 'task-2', 'flaky', 50, now)).toBe(true);
    expect(await usage.record('tok', 'task-3', 'flaky', 0, now)).toBe(true);
    const [today] = await usage.read('tok', 2, now);
    expect(today).toEqual({ day: utcDay(now).day, byCapability: { echo: { tasks: 1, tokens: 60 }, flaky: { tasks: 2, tokens: 50 } } });
    expect(await usage.today('tok', now)).toEqual({ tasks: 0, tokens: 110 });
    expect((await gateA.check(req({ tenantId: 'tok', keyId: 'kt', tokensPerDay: 100 }))).outcome).toBe('tokens_quota');
    expect((await gateA.check(req({ tenantId: 'tok', keyId: 'kt', tokensPerDay: 111 }))).outcome).toBe('allowed');
  });

  it('rejects malformed rates without touching Redis', async () => {
    await expect(gateA.check(req({ key: { rate: 0, burst: 1 } }))).rejects.toThrow(RangeError);
    await expect(gateA.check(req({ tenant: { rate: 1, burst: 0.5 } }))).rejects.toThrow(RangeError);
  });
});
