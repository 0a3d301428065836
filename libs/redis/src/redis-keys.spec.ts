import { createKeyBuilder, normalizeKeyPrefix } from './redis-keys';
import { reconnectDelay } from './redis-client';
import { describeRedisUrl } from './redis-connection';

describe('Redis key builder', () => {
  it('joins parts under the prefix with ":"', () => {
    expect(createKeyBuilder('sb')('rl', 'tenant', 't1')).toBe('sb:rl:tenant:t1');
    expect(createKeyBuilder('sb:')('hb', 42)).toBe('sb:hb:42');
  });

  it.each([[''], [' '], ['a b'], ['a\nb'], ['a\tb'], ['a\u0000b']])('rejects the part %j', (part) => {
    expect(() => createKeyBuilder('sb')('rl', part)).toThrow(RangeError);
  });

  it('rejects no parts, non-finite numbers and bad prefixes', () => {
    expect(() => createKeyBuilder('sb')()).toThrow(RangeError);
    expect(() => createKeyBuilder('sb')(Number.NaN)).toThrow(RangeError);
    expect(() => normalizeKeyPrefix('')).toThrow(RangeError);
    expect(() => normalizeKeyPrefix('s b')).toThrow(RangeError);
  });
});

describe('reconnectDelay', () => {
  it('grows exponentially and stays under the cap plus jitter', () => {
    expect(reconnectDelay(1, 2_000)).toBeGreaterThanOrEqual(50);
    expect(reconnectDelay(1, 2_000)).toBeLessThan(150);
    for (const attempt of [6, 10, 100, 10_000]) {
      const d = reconnectDelay(attempt, 2_000);
      expect(d).toBeGreaterThanOrEqual(1_600);
      expect(d).toBeLessThan(2_100);
    }
  });
});

describe('describeRedisUrl', () => {
  it('never includes credentials', () => {
    expect(describeRedisUrl('redis://user:hunter2@cache.internal:6380/2')).toBe('cache.internal:6380');
    expect(describeRedisUrl('rediss://:pw@cache')).toBe('cache:6379');
  });
});
