/** Slot leases on a real Redis: a ceiling under concurrency, renewal, release, and reclaiming expired leases. */
import { randomBytes } from 'node:crypto';
import { testEnv } from '@sb/testing';
import type { Redis } from 'ioredis';
import { createRedisConnection } from './redis-connection';
import { ConcurrencySlots } from './concurrency-slots';
import { createKeyBuilder } from './redis-keys';

describe('ConcurrencySlots (leases in a sorted set)', () => {
  const prefix = `sbtest-slots-${randomBytes(6).toString('hex')}`;
  let redis: Redis;
  let slots: ConcurrencySlots;
  beforeAll(async () => {
    redis = createRedisConnection({ url: testEnv().redisUrl }, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    slots = new ConcurrencySlots({ client: redis, key: createKeyBuilder(prefix) });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('grants exactly `ceiling` of many concurrent acquires; re-acquiring a held slot is idempotent', async () => {
    const ds = await Promise.all(Array.from({ length: 50 }, (_, i) => slots.acquire('t1', `task-${i}`, 3, 60_000)));
    expect(ds.filter((d) => d.granted)).toHaveLength(3);
    const refused = ds.find((d) => !d.granted)!;
    expect(refused.retryAfterMs).toBeGreaterThan(50_000);
    const holder = `task-${ds.findIndex((d) => d.granted)}`;
    expect(await slots.acquire('t1', holder, 3, 60_000)).toMatchObject({ granted: true, held: 3 });
    await slots.release('t1', holder);
    expect((await slots.acquire('t1', 'late', 3, 60_000)).granted).toBe(true);
    expect((await slots.acquire('t1', 'later', 3, 60_000)).granted).toBe(false);
  });

  it('reclaims an expired lease on the next acquire, and renewal keeps a lease alive', async () => {
    expect((await slots.acquire('t2', 'dead', 1, 100)).granted).toBe(true);
    expect((await slots.acquire('t2', 'alive', 1, 100)).granted).toBe(false);
    // Wait out the lease on Redis's own clock: its score says when.
    const [, score] = await redis.zrange(slots.key('t2'), '0', '0', 'WITHSCORES');
    for (;;) {
      const [s, us] = (await redis.time()).map(Number);
      if (s * 1000 + us / 1000 > Number(score) + 1) break;
    }
    expect((await slots.acquire('t2', 'alive', 1, 60_000)).granted).toBe(true);
    expect(await slots.renew('t2', 'alive', 60_000)).toBe(true);
    expect(await slots.renew('t2', 'dead', 60_000)).toBe(false);
  });
});
