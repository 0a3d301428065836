/** The liveness scripts against real Redis: forward-only deadlines, stale and departed beats, one claim per incident, re-arm after a gap. */
import { createKeyBuilder, createRedisConnection } from '@sb/redis';
import { cleanupRedisKeys, redisKeyPrefix, testEnv } from '@sb/testing';
import type { Redis } from 'ioredis';
import { RedisLivenessStore } from './liveness-store';

describe('liveness store (Redis)', () => {
  const prefix = redisKeyPrefix();
  let a: Redis;
  let b: Redis;
  let one: RedisLivenessStore;
  let two: RedisLivenessStore;
  const GAP = 1_000;
  const GRACE = 2_500;

  beforeAll(() => {
    a = createRedisConnection({ url: testEnv().redisUrl });
    b = createRedisConnection({ url: testEnv().redisUrl });
    one = new RedisLivenessStore({ client: a, key: createKeyBuilder(prefix) });
    two = new RedisLivenessStore({ client: b, key: createKeyBuilder(prefix) });
  });
  afterAll(async () => {
    await cleanupRedisKeys(a, prefix);
    a.disconnect();
    b.disconnect();
  });

  it('moves deadlines only forward, ignores stale beats, and claims an expired agent once', async () => {
    const t = 1_000_000;
    const WIDE = 60_000; // sweeps in this test are far apart; keep them judging
    expect(await one.sweep(t, 100, WIDE, GRACE)).toEqual({ kind: 'rearmed', count: 0 }); // first sweep ever: nothing judged
    await one.register('x1', t + 2_500);
    expect(await one.beat(t + 100, [{ agentId: 'x1', deadline: t + 3_000 }])).toEqual([]);
    await one.beat(t + 150, [{ agentId: 'x1', deadline: t + 2_600 }]); // reordered: older deadline
    await one.beat(t + 200, [{ agentId: 'late', deadline: t + 150 }]); // already expired when written: stale
    expect((await one.snapshot()).live).toEqual(new Map([['x1', t + 3_000]]));
    expect(await one.sweep(t + 2_900, 100, WIDE, GRACE)).toEqual({ kind: 'claimed', down: [] });
    expect(await one.sweep(t + 3_000, 100, WIDE, GRACE)).toEqual({ kind: 'claimed', down: [{ agentId: 'x1', deadline: t + 3_000 }] });
    expect(await one.sweep(t + 3_050, 100, WIDE, GRACE)).toEqual({ kind: 'claimed', down: [] });
    // It beats again: back up, once.
    expect(await one.beat(t + 3_100, [{ agentId: 'x1', deadline: t + 5_600 }])).toEqual(['x1']);
    expect(await one.beat(t + 3_200, [{ agentId: 'x1', deadline: t + 5_700 }])).toEqual([]);
    // Leaves: later beats are ignored; leaving twice reports once.
    expect(await one.leave('x1')).toBe(true);
    expect(await one.leave('x1')).toBe(false);
    await one.beat(t + 3_300, [{ agentId: 'x1', deadline: t + 5_800 }]);
    expect((await one.snapshot()).live.has('x1')).toBe(false);
    // Registering again brings it back.
    expect(await one.register('x1', t + 6_000)).toBe('left');
    expect((await one.snapshot()).live.get('x1')).toBe(t + 6_000);
  });

  it('lets two replicas sweeping at once claim each expired agent exactly once', async () => {
    const t = 2_000_000;
    await one.sweep(t, 100, 10 * GAP, GRACE);
    for (let i = 0; i < 200; i++) await one.register(`r${i}`, t + 500 + i);
    const results = await Promise.all(Array.from({ length: 20 }, (_, k) => (k % 2 ? one : two).sweep(t + 600 + k * 10, 1_000, 10 * GAP, GRACE)));
    const claimed = results.flatMap((r) => (r.kind === 'claimed' ? r.down.map((d) => d.agentId) : []));
    expect(claimed).toHaveLength(new Set(claimed).size);
    expect(claimed.length).toBeGreaterThan(100);
  });

  it('re-arms instead of claiming after nobody swept for longer than the gap', async () => {
    const t = 3_000_000;
    await one.sweep(t, 100, GAP, GRACE);
    await one.register('g1', t + 500);
    expect(await one.sweep(t + 10_000, 100, GAP, GRACE)).toEqual({ kind: 'rearmed', count: expect.any(Number) });
    expect((await one.snapshot()).live.get('g1')).toBe(t + 10_000 + GRACE);
    // Regular sweeps again: judged from the re-armed deadline on.
    for (let at = t + 10_500; at < t + 10_000 + GRACE; at += 500) expect(await one.sweep(at, 100, GAP, GRACE)).toEqual({ kind: 'claimed', down: [] });
    expect(await one.sweep(t + 10_000 + GRACE, 100, GAP, GRACE)).toMatchObject({ kind: 'claimed', down: expect.arrayContaining([expect.objectContaining({ agentId: 'g1', deadline: t + 10_000 + GRACE })]) });
  });
});
