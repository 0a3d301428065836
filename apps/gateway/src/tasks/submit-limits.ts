/**
 * Per-submission limits: the API key's and the tenant's rate buckets and the tenant's daily
 * quotas, decided by ONE Redis Lua call (SubmitGate) so the limits are exact across gateway
 * replicas. The limits come from the tenant's policy (plan + overrides, per-key overrides),
 * capped by this gateway's TENANT_SUBMIT_RATE/BURST.
 *
 * While Redis is unreachable: rate limits fall back to an in-process GCRA with each limit divided
 * by GATEWAY_REPLICAS; a tenant with a finite quota cannot be checked, so its submissions fail
 * closed with 503 + Retry-After (the gateway is not-ready meanwhile). ioredis reconnects on its
 * own and the next check uses Redis again.
 */
import { QuotaExceededError, RateLimitedError, type TenantPolicy, UnavailableError } from '@sb/contracts';
import type { SecurityEventInput } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import type { Rate, SubmitGate, SubmitGateDecision } from '@sb/redis';
import type { LocalLimiter } from './local-limiter';

/** What the RateLimit-* headers report (seconds for reset). */
export interface RateLimitInfo {
  limit: number;
  remaining: number;
  resetSeconds: number;
  retryAfterSeconds?: number;
}

export function rateLimitHeaders(i: RateLimitInfo): Record<string, string> {
  const h: Record<string, string> = { 'RateLimit-Limit': String(i.limit), 'RateLimit-Remaining': String(i.remaining), 'RateLimit-Reset': String(i.resetSeconds) };
  if (i.retryAfterSeconds !== undefined) h['Retry-After'] = String(i.retryAfterSeconds);
  return h;
}

const QUOTA_UNAVAILABLE_RETRY_S = 2;
const secs = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

export class SubmitLimits {
  private lastWarn = 0;
  constructor(
    private readonly gate: SubmitGate,
    private readonly local: LocalLimiter,
    private readonly cap: Rate,
    private readonly logger: AppLogger,
    /** Where refusals are recorded as `rate_limited` security events (fire-and-forget). */
    private readonly securityEvent: (e: SecurityEventInput) => void = () => undefined,
  ) {}

  /**
   * Allow one submission or throw (429 RATE_LIMIT.EXCEEDED / TENANCY.QUOTA_EXCEEDED, 503 while
   * quotas cannot be checked). `report` gets the RateLimit data either way.
   */
  async admitSubmission(
    policy: TenantPolicy,
    keyId: string,
    report: (i: RateLimitInfo) => void = () => undefined,
    transport: 'http' | 'nats' | 'internal' = 'internal',
  ): Promise<void> {
    const tenant = { rate: Math.min(policy.limits.submitRate, this.cap.rate), burst: Math.min(policy.limits.submitBurst, this.cap.burst) };
    const key = policy.keyLimits[keyId] ?? tenant;
    let d: SubmitGateDecision;
    try {
      d = await this.gate.check({ tenantId: policy.tenantId, keyId, key, tenant, tasksPerDay: policy.limits.tasksPerDay, tokensPerDay: policy.limits.tokensPerDay });
    } catch (e) {
      this.warn(e);
      if (policy.limits.tasksPerDay !== null || policy.limits.tokensPerDay !== null) {
        throw new UnavailableError('Quota counters are unavailable; retry shortly', { cause: e, retryAfter: QUOTA_UNAVAILABLE_RETRY_S });
      }
      const l = this.local.check([
        { key: `key:${keyId}`, limit: key },
        { key: `tenant:${policy.tenantId}`, limit: tenant },
      ]);
      d = { outcome: l.allowed ? 'allowed' : 'rate_limited', remaining: l.remaining, retryAfterMs: l.retryAfterMs, resetAfterMs: l.resetAfterMs, limit: l.limit };
    }
    const info: RateLimitInfo = { limit: d.limit, remaining: d.remaining, resetSeconds: secs(d.resetAfterMs) };
    if (d.outcome === 'allowed') return report(info);
    const retryAfter = Math.max(1, secs(d.retryAfterMs));
    report({ ...info, retryAfterSeconds: retryAfter });
    this.securityEvent({ type: 'rate_limited', transport, route: 'tasks.submit', tenantId: policy.tenantId, keyId, reason: d.outcome });
    const details = { limit: d.limit, remaining: d.remaining, reset: info.resetSeconds };
    if (d.outcome === 'rate_limited') throw new RateLimitedError(`Submission rate exceeded; retry in ${retryAfter} s`, { retryAfter, details });
    const which = d.outcome === 'tasks_quota' ? `${policy.limits.tasksPerDay} tasks` : `${policy.limits.tokensPerDay} tokens`;
    throw new QuotaExceededError(`The daily quota of ${which} is used up; it resets at 00:00 UTC`, { retryAfter, details: { quota: d.outcome === 'tasks_quota' ? 'tasksPerDay' : 'tokensPerDay' } });
  }

  private warn(e: unknown): void {
    if (Date.now() - this.lastWarn < 10_000) return;
    this.lastWarn = Date.now();
    this.logger.warn({ err: e }, 'Redis unavailable: rate limits are enforced in-process per replica; quota-limited tenants get 503');
  }
}
