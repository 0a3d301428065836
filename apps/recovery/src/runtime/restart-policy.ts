/**
 * When to restart: exponential backoff per pool (base, doubling, capped) and a budget of
 * restarts per window; past the budget recovery stops restarting and raises an alert
 * instead of crash-looping. Pure, with an injected clock.
 */
export interface RestartPolicyOptions {
  budget: number;
  windowMs: number;
  backoffMs: number;
  backoffMaxMs: number;
}

export type RestartDecision = { action: 'restart'; delayMs: number; attempt: number } | { action: 'exhausted'; restartsInWindow: number };

export class RestartPolicy {
  private readonly history = new Map<string, number[]>();

  constructor(
    private readonly o: RestartPolicyOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Decide for `pool`, recording the restart if one is allowed. */
  next(pool: string): RestartDecision {
    const t = this.now();
    const recent = (this.history.get(pool) ?? []).filter((at) => t - at < this.o.windowMs);
    if (recent.length >= this.o.budget) {
      this.history.set(pool, recent);
      return { action: 'exhausted', restartsInWindow: recent.length };
    }
    const delayMs = Math.min(this.o.backoffMaxMs, this.o.backoffMs * 2 ** recent.length);
    recent.push(t);
    this.history.set(pool, recent);
    return { action: 'restart', delayMs, attempt: recent.length };
  }
}
