/**
 * Distributed rate limiting with GCRA in Redis (see rate-limit.script.ts for the algorithm and why).
 * One round trip per check (EVALSHA via ioredis `defineCommand`, which falls back to EVAL once per
 * connection), decided atomically on Redis's clock so every replica agrees.
 *
 * Redis errors are not swallowed: with the client's offline queue disabled a check fails fast while
 * Redis is down, and the caller chooses fail-open or 503.
 */
import type { Redis } from 'ioredis';
import type { RedisKeyspace } from './redis-keys';
import { GCRA_COMMAND, GCRA_LUA } from './rate-limit.script';

export interface RateLimit {
  /** Requests replenished per period. */
  rate: number;
  /** Length of the period in ms: capacity refills continuously at rate/periodMs. */
  periodMs: number;
  /** At most this many requests (of cost 1) may pass at once from a full bucket. */
  burst: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Requests of cost 1 that would still pass right now (after this one, if it was allowed). */
  remaining: number;
  /** 0 when allowed; otherwise ms until this request (same cost) would be allowed. Use for Retry-After. */
  retryAfterMs: number;
  /** ms until the bucket is full again (all `burst` available). */
  resetAfterMs: number;
  /** The burst, i.e. the most `remaining` can ever be. */
  limit: number;
}

type GcraReply = [number, number, number, number];
type GcraCommand = (key: string, emissionUs: string, burst: number, cost: number) => Promise<GcraReply>;

const defined = new WeakSet<Redis>();

export class RateLimiter {
  /**
   * @param keyspace a `RedisClient` (or any `{ client, key() }`) whose prefix namespaces the keys.
   * @param namespace key segment after the prefix: keys are `<prefix>:<namespace>:<key>`.
   */
  constructor(
    private readonly keyspace: RedisKeyspace<Redis>,
    private readonly namespace = 'rl',
  ) {
    const client = keyspace.client;
    if (!defined.has(client)) {
      client.defineCommand(GCRA_COMMAND, { lua: GCRA_LUA, numberOfKeys: 1 });
      defined.add(client);
    }
  }

  /** The Redis key a limiter key is stored under (for inspection and tests). */
  redisKey(key: string): string {
    return this.keyspace.key(this.namespace, key);
  }

  /**
   * Take `cost` units from the bucket `key` (e.g. `key:<apiKeyId>`, `tenant:<id>`) if available.
   * `cost` 0 peeks without consuming. Throws RangeError on a malformed limit or a cost above the
   * burst (such a request could never pass, so it is a caller bug, not a refusal).
   */
  async check(key: string, limit: RateLimit, cost = 1): Promise<RateLimitDecision> {
    validate(limit, cost);
    const emissionUs = (limit.periodMs * 1000) / limit.rate;
    const command = (this.keyspace.client as unknown as Record<string, GcraCommand>)[GCRA_COMMAND];
    const [allowed, remaining, retryAfterMs, resetAfterMs] = await command.call(
      this.keyspace.client,
      this.redisKey(key),
      String(emissionUs),
      limit.burst,
      cost,
    );
    return {
      allowed: Number(allowed) === 1,
      remaining: Number(remaining),
      retryAfterMs: Number(retryAfterMs),
      resetAfterMs: Number(resetAfterMs),
      limit: limit.burst,
    };
  }
}

function validate(limit: RateLimit, cost: number): void {
  const { rate, periodMs, burst } = limit;
  if (!(Number.isFinite(rate) && rate > 0)) throw new RangeError(`rate must be a positive number, got ${rate}`);
  if (!(Number.isFinite(periodMs) && periodMs > 0)) throw new RangeError(`periodMs must be a positive number, got ${periodMs}`);
  if (!(Number.isSafeInteger(burst) && burst >= 1)) throw new RangeError(`burst must be an integer >= 1, got ${burst}`);
  if (!(Number.isSafeInteger(cost) && cost >= 0)) throw new RangeError(`cost must be an integer >= 0, got ${cost}`);
  if (cost > burst) throw new RangeError(`cost ${cost} exceeds burst ${burst}; such a request can never be allowed`);
}
