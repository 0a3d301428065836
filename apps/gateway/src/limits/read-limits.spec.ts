import { RateLimitedError } from '@sb/contracts';
import { createLogger } from '@sb/observability';
import type { RateLimiter } from '@sb/redis';
import { LocalLimiter } from '../tasks/local-limiter';
import type { RateLimitInfo } from '../tasks/submit-limits';
import { ReadLimits } from './read-limits';

describe('ReadLimits', () => {
  const logger = createLogger('test', 'silent');
  const redisDown = { check: () => Promise.reject(new Error('Connection is closed.')) } as unknown as RateLimiter;

  it('refuses a key past its budget with a retryable 429 and RateLimit data, each key in a bucket of its own', async () => {
    const t = { now: 1_000_000 };
    const limits = new ReadLimits(redisDown, new LocalLimiter(1, () => t.now), { rate: 1, burst: 2 }, logger);
    const seen: RateLimitInfo[] = [];
    await limits.admitRead('k1', (i) => seen.push(i));
    await limits.admitRead('k1', (i) => seen.push(i));
    await expect(limits.admitRead('k1', (i) => seen.push(i))).rejects.toMatchObject({ status: 429, retryable: true, retryAfter: 1 });
    expect(seen.map((i) => i.remaining)).toEqual([1, 0, 0]);
    expect(seen[2].retryAfterSeconds).toBe(1);
    await expect(limits.admitRead('k2')).resolves.toBeUndefined();
    t.now += 1_000;
    await expect(limits.admitRead('k1')).resolves.toBeUndefined();
  });

  it("keeps only this replica's share of the budget while Redis is down (down to the local limit, never closed)", async () => {
    const limits = new ReadLimits(redisDown, new LocalLimiter(2, () => 0), { rate: 10, burst: 4 }, logger);
    await limits.admitRead('k');
    await limits.admitRead('k');
    await expect(limits.admitRead('k')).rejects.toBeInstanceOf(RateLimitedError);
  });
});
