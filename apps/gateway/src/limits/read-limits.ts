/**
 * Reads per API key (every GET route, and `sb.v1.tasks.get|list` on the bus): a GCRA bucket in
 * Redis per key (`RateLimiter`, one Lua call, exact across gateway replicas), with its own budget
 * (KEY_READ_RATE / KEY_READ_BURST), apart from the submission buckets. While Redis is unreachable
 * each gateway enforces its share in-process (LocalLimiter, limit / GATEWAY_REPLICAS): reads fail
 * open to that, never closed. Refusals are 429 RATE_LIMIT.EXCEEDED with Retry-After.
 */
import { RateLimitedError } from '@sb/contracts';
import type { AppLogger } from '@sb/observability';
import type { RateLimit, RateLimiter } from '@sb/redis';
import type { LocalLimiter } from '../tasks/local-limiter';
import type { RateLimitInfo } from '../tasks/submit-limits';

export interface ReadBudget {
  /** Reads per second. */
  rate: number;
  burst: number;
}

const secs = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

export class ReadLimits {
  private readonly limit: RateLimit;
  private lastWarn = 0;

  constructor(
    private readonly limiter: RateLimiter,
    private readonly local: LocalLimiter,
    private readonly budget: ReadBudget,
    private readonly logger: AppLogger,
  ) {
    this.limit = { rate: budget.rate, periodMs: 1_000, burst: budget.burst };
  }

  /** Count one read of `keyId` or throw 429; `report` gets the RateLimit data either way. */
  async admitRead(keyId: string, report: (i: RateLimitInfo) => void = () => undefined): Promise<void> {
    let d: { allowed: boolean; remaining: number; retryAfterMs: number; resetAfterMs: number; limit: number };
    try {
      d = await this.limiter.check(`read:${keyId}`, this.limit);
    } catch (e) {
      this.warn(e);
      d = this.local.check([{ key: `read:${keyId}`, limit: this.budget }]);
    }
    const info: RateLimitInfo = { limit: d.limit, remaining: d.remaining, resetSeconds: secs(d.resetAfterMs) };
    if (d.allowed) return report(info);
    const retryAfter = Math.max(1, secs(d.retryAfterMs));
    report({ ...info, retryAfterSeconds: retryAfter });
    throw new RateLimitedError(`Read rate exceeded for this API key; retry in ${retryAfter} s`, { retryAfter, details: { limit: d.limit, remaining: d.remaining, reset: info.resetSeconds } });
  }

  private warn(e: unknown): void {
    if (Date.now() - this.lastWarn < 10_000) return;
    this.lastWarn = Date.now();
    this.logger.warn({ err: e }, 'Redis unavailable: read limits are enforced in-process per replica');
  }
}
