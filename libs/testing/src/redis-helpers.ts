// Redis clean-up for tests that used redisKeyPrefix().
import type { Redis } from 'ioredis';

/** UNLINK every key starting with `prefix` (SCAN, never KEYS). Returns how many were removed. */
export async function cleanupRedisKeys(redis: Redis, prefix: string): Promise<number> {
  if (prefix.length < 4) throw new Error(`cleanupRedisKeys: refusing the short prefix "${prefix}" (use redisKeyPrefix())`);
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) removed += await redis.unlink(...keys);
  } while (cursor !== '0');
  return removed;
}
