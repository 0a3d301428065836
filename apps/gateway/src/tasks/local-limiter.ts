/**
 * The in-process stand-in for the Redis rate buckets while Redis is unreachable: the same GCRA
 * (one number per bucket), with each limit divided by the number of gateway replicas so the
 * fleet as a whole stays near the configured rate. Pure; unit-tested in local-limiter.spec.ts.
 */
export interface LocalRate {
  rate: number;
  burst: number;
}

export interface LocalDecision {
  allowed: boolean;
  remaining: number;
  retryAfterMs: number;
  resetAfterMs: number;
  limit: number;
}

const MAX_BUCKETS = 50_000;

export class LocalLimiter {
  private readonly tat = new Map<string, number>();

  constructor(
    private readonly replicas: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** This replica's share of a limit: rate/replicas, burst/replicas (at least 1). */
  share(r: LocalRate): LocalRate {
    return { rate: r.rate / this.replicas, burst: Math.max(1, Math.floor(r.burst / this.replicas)) };
  }

  /** Both buckets must allow; nothing is consumed unless both do. */
  check(buckets: Array<{ key: string; limit: LocalRate }>): LocalDecision {
    const now = this.now();
    const evaluated = buckets.map(({ key, limit }) => {
      const l = this.share(limit);
      const t = 1000 / l.rate;
      const tat = Math.max(this.tat.get(key) ?? now, now);
      const next = tat + t;
      const diff = now - (next - t * l.burst);
      return diff < 0
        ? { key, ok: false, next, remaining: Math.max(0, Math.floor((now - (tat - t * l.burst)) / t)), retry: Math.ceil(-diff), reset: Math.ceil(tat - now), limit: l.burst }
        : { key, ok: true, next, remaining: Math.floor(diff / t), retry: 0, reset: Math.ceil(next - now), limit: l.burst };
    });
    const refused = evaluated.filter((e) => !e.ok);
    const tight = refused[0] ?? evaluated.reduce((a, b) => (b.remaining < a.remaining ? b : a));
    if (refused.length === 0) {
      if (this.tat.size > MAX_BUCKETS) this.prune(now);
      for (const e of evaluated) this.tat.set(e.key, e.next);
    }
    return {
      allowed: refused.length === 0,
      remaining: tight.remaining,
      retryAfterMs: Math.max(...evaluated.map((e) => e.retry)),
      resetAfterMs: Math.max(...evaluated.map((e) => e.reset)),
      limit: tight.limit,
    };
  }

  private prune(now: number): void {
    for (const [k, v] of this.tat) if (v <= now) this.tat.delete(k);
  }
}
