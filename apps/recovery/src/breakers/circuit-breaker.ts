/**
 * One circuit breaker, as a pure state machine over an injected clock (ms).
 *
 *   closed ──(error rate ≥ threshold over the window with ≥ minVolume attempts,
 *             or ≥ N consecutive counted failures)──▶ open
 *   open ──(cool-down elapsed: tick)──▶ half_open
 *   half_open ──(`probes` successes)──▶ closed      half_open ──(a counted failure)──▶ open
 *
 * Only counted failure classes trip it (agent_error, and timeout unless configured off);
 * rate limits, dependency errors and cancellations neither count nor reset the streak. Each
 * re-open after a failed probe doubles the cool-down, up to `maxCooldownMs`.
 */
import type { BreakerStateName } from '@sb/contracts';

export interface BreakerPolicy {
  windowMs: number;
  minVolume: number;
  /** 0..1: counted failures / attempts over the window that opens the breaker. */
  errorRate: number;
  consecutiveFailures: number;
  cooldownMs: number;
  maxCooldownMs: number;
  /** Successful probes that close a half-open breaker (and how many tasks it lets through). */
  probes: number;
}

/** What one batch reported, reduced to what the breaker counts. */
export interface CountedTally {
  ok: number;
  /** Counted failures in the batch. */
  failed: number;
  sawSuccess: boolean;
  /** Counted failures after the batch's last success. */
  trailing: number;
}

export interface BreakerChange {
  from: BreakerStateName;
  to: BreakerStateName;
  reason: string | null;
}

interface Bucket {
  start: number;
  ok: number;
  failed: number;
}

export class CircuitBreaker {
  private current: BreakerStateName = 'closed';
  private enteredAt: number;
  private reopenAt: number | null = null;
  private why: string | null = null;
  private streak = 0;
  private probeSuccesses = 0;
  private reopens = 0;
  private readonly buckets: Bucket[] = [];
  private readonly bucketMs: number;

  constructor(
    private readonly policy: BreakerPolicy,
    now: number,
  ) {
    this.enteredAt = now;
    this.bucketMs = Math.max(50, Math.floor(policy.windowMs / 20));
  }

  get state(): BreakerStateName {
    return this.current;
  }
  get since(): number {
    return this.enteredAt;
  }
  get retryAt(): number | null {
    return this.reopenAt;
  }
  get reason(): string | null {
    return this.why;
  }
  get consecutive(): number {
    return this.streak;
  }

  /** Counted failures and attempts (successes + counted failures) over the window ending `now`. */
  window(now: number): { failures: number; attempts: number } {
    this.prune(now);
    let failures = 0;
    let ok = 0;
    for (const b of this.buckets) {
      failures += b.failed;
      ok += b.ok;
    }
    return { failures, attempts: failures + ok };
  }

  record(t: CountedTally, now: number): BreakerChange | undefined {
    if (t.ok === 0 && t.failed === 0) return undefined;
    if (this.current === 'open') return undefined; // stragglers that started before it opened
    if (this.current === 'half_open') {
      if (t.failed > 0) {
        this.reopens++;
        return this.open('probe_failed', now);
      }
      this.probeSuccesses += t.ok;
      if (this.probeSuccesses >= this.policy.probes) return this.close(now);
      return undefined;
    }
    this.add(t, now);
    this.streak = t.sawSuccess ? t.trailing : this.streak + t.trailing;
    if (this.streak >= this.policy.consecutiveFailures) return this.open('consecutive_failures', now);
    const w = this.window(now);
    if (w.attempts >= this.policy.minVolume && w.failures / w.attempts >= this.policy.errorRate) return this.open('error_rate', now);
    return undefined;
  }

  /** A new leader carries on from the broadcast state (an open breaker stays open until its retryAt). */
  restore(state: BreakerStateName, since: number, retryAt: number | null, reason: string | null): void {
    this.current = state;
    this.enteredAt = since;
    this.reopenAt = state === 'open' ? (retryAt ?? since + this.policy.cooldownMs) : null;
    this.why = reason;
    this.probeSuccesses = 0;
  }

  /** Time passing: an open breaker whose cool-down is over goes half-open. */
  tick(now: number): BreakerChange | undefined {
    if (this.current !== 'open' || this.reopenAt === null || now < this.reopenAt) return undefined;
    const from = this.current;
    this.current = 'half_open';
    this.enteredAt = now;
    this.reopenAt = null;
    this.probeSuccesses = 0;
    return { from, to: 'half_open', reason: this.why };
  }

  private open(reason: string, now: number): BreakerChange {
    const from = this.current;
    this.current = 'open';
    this.enteredAt = now;
    this.why = reason;
    const cooldown = Math.min(this.policy.maxCooldownMs, this.policy.cooldownMs * 2 ** Math.min(this.reopens, 20));
    this.reopenAt = now + cooldown;
    return { from, to: 'open', reason };
  }

  private close(now: number): BreakerChange {
    const from = this.current;
    this.current = 'closed';
    this.enteredAt = now;
    this.reopenAt = null;
    this.streak = 0;
    this.reopens = 0;
    this.buckets.length = 0;
    return { from, to: 'closed', reason: this.why };
  }

  private add(t: CountedTally, now: number): void {
    const start = now - (now % this.bucketMs);
    let last = this.buckets[this.buckets.length - 1];
    if (!last || last.start !== start) {
      last = { start, ok: 0, failed: 0 };
      this.buckets.push(last);
    }
    last.ok += t.ok;
    last.failed += t.failed;
  }

  private prune(now: number): void {
    const oldest = now - this.policy.windowMs;
    while (this.buckets.length > 0 && this.buckets[0].start + this.bucketMs <= oldest) this.buckets.shift();
  }
}
