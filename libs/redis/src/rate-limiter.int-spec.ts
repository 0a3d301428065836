/**
 * GCRA against a real Redis. Every test uses its own key prefix (random suffix) and deletes its
 * keys afterwards, so suites can share one server.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { createRedisConnection } from './redis-connection';
import { type RateLimit, RateLimiter } from './rate-limiter';
import { createKeyBuilder, type RedisKeyspace } from './redis-keys';
import { testEnv } from '@sb/testing';

const redisUrl = (): string => testEnv().redisUrl;

async function connect(url: string): Promise<Redis> {
  const client = createRedisConnection({ url }, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  await client.connect();
  return client;
}

const keyspace = (client: Redis, prefix: string): RedisKeyspace<Redis> => ({ client, key: createKeyBuilder(prefix) });

const count = <T>(items: T[], pred: (t: T) => boolean) => items.filter(pred).length;

describe('RateLimiter (GCRA on real Redis)', () => {
  const prefix = `sbtest-rl-${randomBytes(6).toString('hex')}`;
  let a: Redis;
  let b: Redis;
  let limiterA: RateLimiter;
  let limiterB: RateLimiter;

  beforeAll(async () => {
    const url = redisUrl();
    [a, b] = await Promise.all([connect(url), connect(url)]);
    limiterA = new RateLimiter(keyspace(a, prefix));
    limiterB = new RateLimiter(keyspace(b, prefix));
  });

  afterAll(async () => {
    if (!a) return;
    const keys = await a.keys(`${prefix}:*`);
    if (keys.length > 0) await a.del(...keys);
    await Promise.all([a.quit(), b?.quit()]);
  });

  it('lets exactly `burst` of 500 concurrent checks through, across two connections', async () => {
    const limit: RateLimit = { rate: 1, periodMs: 3_600_000, burst: 100 }; // refill is negligible
    const decisions = await Promise.all(
      Array.from({ length: 500 }, (_, i) => (i % 2 === 0 ? limiterA : limiterB).check('concurrent', limit)),
    );
    const allowed = decisions.filter((d) => d.allowed);
    expect(allowed).toHaveLength(100);
    expect(count(decisions, (d) => !d.allowed)).toBe(400);
    // Each admitted request got its own slot: remaining runs 99..0 with no duplicates.
    expect(allowed.map((d) => d.remaining).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    for (const d of decisions) expect(d.limit).toBe(100);
    for (const d of decisions.filter((x) => !x.allowed)) {
      expect(d.remaining).toBe(0);
      expect(d.retryAfterMs).toBeGreaterThan(0);
    }
  });

  it('reports retryAfterMs of about one emission interval when the burst is spent', async () => {
    const limit: RateLimit = { rate: 10, periodMs: 10_000, burst: 5 }; // T = 1000 ms
    const started = Date.now();
    for (let i = 0; i < 5; i++) expect((await limiterA.check('retry-after', limit)).allowed).toBe(true);
    const refused = await limiterA.check('retry-after', limit);
    const elapsed = Date.now() - started;
    expect(refused.allowed).toBe(false);
    expect(refused.remaining).toBe(0);
    // One interval after the first admission, less the time these calls took (ms rounding: +1).
    expect(refused.retryAfterMs).toBeGreaterThanOrEqual(1_000 - elapsed - 1);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(1_000);
    // Full again once all five intervals have passed.
    expect(refused.resetAfterMs).toBeGreaterThanOrEqual(5_000 - elapsed - 1);
    expect(refused.resetAfterMs).toBeLessThanOrEqual(5_000);
  });

  it('refills: after waiting the reported retryAfterMs the next check is allowed', async () => {
    const limit: RateLimit = { rate: 10, periodMs: 100, burst: 2 }; // T = 10 ms
    // Spend the burst; refill is fast enough that a slow machine may need more than two calls.
    let refused;
    for (let i = 0; i < 100 && !refused; i++) {
      const d = await limiterA.check('refill', limit);
      if (!d.allowed) refused = d;
    }
    expect(refused).toBeDefined();
    expect(refused!.retryAfterMs).toBeGreaterThan(0);
    expect(refused!.retryAfterMs).toBeLessThanOrEqual(10);
    await sleep(refused!.retryAfterMs); // the limiter's own answer is the event to wait for
    const again = await limiterB.check('refill', limit);
    expect(again.allowed).toBe(true);
    expect(again.retryAfterMs).toBe(0);
  });

  it('keeps distinct keys independent', async () => {
    const limit: RateLimit = { rate: 1, periodMs: 60_000, burst: 3 };
    for (let i = 0; i < 3; i++) await limiterA.check('tenant:one', limit);
    expect((await limiterA.check('tenant:one', limit)).allowed).toBe(false);
    const other = await limiterA.check('tenant:two', limit);
    expect(other).toMatchObject({ allowed: true, remaining: 2, retryAfterMs: 0 });
  });

  it('stores one key under the prefix with a TTL no longer than the time to full refill', async () => {
    const limit: RateLimit = { rate: 2, periodMs: 1_000, burst: 4 }; // T = 500 ms
    const d = await limiterA.check('ttl-probe', limit, 3);
    expect(d).toMatchObject({ allowed: true, remaining: 1 });
    expect(d.resetAfterMs).toBeLessThanOrEqual(1_500);
    expect(await a.keys(`${prefix}:rl:ttl-probe*`)).toEqual([`${prefix}:rl:ttl-probe`]);
    expect(limiterA.redisKey('ttl-probe')).toBe(`${prefix}:rl:ttl-probe`);
    const pttl = await a.pttl(`${prefix}:rl:ttl-probe`);
    expect(pttl).toBeGreaterThan(1_000);
    expect(pttl).toBeLessThanOrEqual(d.resetAfterMs);
    // Nothing is written outside the prefix by this suite.
    expect(await a.exists('rl:ttl-probe')).toBe(0);
  });

  it('charges `cost`, peeks with cost 0, and refuses a cost larger than what is left', async () => {
    const limit: RateLimit = { rate: 1, periodMs: 60_000, burst: 5 };
    expect(await limiterA.check('cost', limit, 0)).toMatchObject({ allowed: true, remaining: 5, resetAfterMs: 0 });
    expect(await a.exists(`${prefix}:rl:cost`)).toBe(0); // a peek writes nothing
    expect(await limiterA.check('cost', limit, 4)).toMatchObject({ allowed: true, remaining: 1 });
    const refused = await limiterA.check('cost', limit, 2);
    expect(refused).toMatchObject({ allowed: false, remaining: 1 });
    expect(refused.retryAfterMs).toBeGreaterThan(55_000);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    // The refusal consumed nothing: the single remaining unit is still there.
    expect(await limiterA.check('cost', limit, 1)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('rejects malformed limits, costs above the burst and unsafe keys without touching Redis', async () => {
    const ok: RateLimit = { rate: 1, periodMs: 1_000, burst: 2 };
    await expect(limiterA.check('bad', { ...ok, rate: 0 })).rejects.toThrow(RangeError);
    await expect(limiterA.check('bad', { ...ok, periodMs: -1 })).rejects.toThrow(RangeError);
    await expect(limiterA.check('bad', { ...ok, burst: 1.5 })).rejects.toThrow(RangeError);
    await expect(limiterA.check('bad', ok, 3)).rejects.toThrow(/exceeds burst/);
    await expect(limiterA.check('has space', ok)).rejects.toThrow(RangeError);
    await expect(limiterA.check('new\nline', ok)).rejects.toThrow(RangeError);
    expect(await a.keys(`${prefix}:rl:bad*`)).toEqual([]);
  });
});
