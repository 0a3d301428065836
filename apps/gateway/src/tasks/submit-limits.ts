/**
 * The per-tenant submission rate, enforced in Redis (GCRA, one Lua call) so it is exact
 * across gateway replicas. While Redis is unreachable the limit is not enforced and the
 * gateway reports not-ready; the auth-and-tenancy work replaces this with an in-process
 * fallback limiter.
 */
import { RateLimitedError } from '@sb/contracts';
import type { AppLogger } from '@sb/observability';
import type { RateLimit, RateLimiter } from '@sb/redis';

export class SubmitLimits {
  private lastWarn = 0;
  constructor(
    private readonly limiter: RateLimiter,
    private readonly perTenant: RateLimit,
    private readonly logger: AppLogger,
  ) {}

  async admitSubmission(tenantId: string): Promise<void> {
    let decision;
    try {
      decision = await this.limiter.check(`submit:${tenantId}`, this.perTenant);
    } catch (e) {
      if (Date.now() - this.lastWarn > 10_000) {
        this.lastWarn = Date.now();
        this.logger.warn({ err: e }, 'rate limiter unavailable; submissions are not rate-limited until Redis is back');
      }
      return;
    }
    if (!decision.allowed) {
      const retryAfter = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      throw new RateLimitedError(`Tenant submission rate exceeded; retry in ${retryAfter} s`, { retryAfter, details: { limit: decision.limit, remaining: decision.remaining } });
    }
  }
}
