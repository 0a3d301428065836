/**
 * The breaker and load-shedding check at intake, from the states recovery's leader keeps in
 * the resilience bucket (watched: current values at boot, then every change), so the check is
 * two map lookups on the submit path.
 *  - capability breaker open (every agent for it is open): 503 RECOVERY.CAPABILITY_UNAVAILABLE,
 *    Retry-After = seconds until it goes half-open; half-open: a few probe submissions per
 *    gateway, then 503 again until it closes.
 *  - load shedding: 503 RECOVERY.LOAD_SHED with the state's Retry-After for the shed priorities.
 * Fails open: an open breaker well past its retry time, or a degraded state past its expiry
 * (no leader refreshing it), no longer refuses anything.
 */
import type { KV } from '@nats-io/kv';
import { type BreakerState, CapabilityUnavailableError, LoadShedError, type Priority, type ShedState } from '@sb/contracts';

export interface IntakeGuardOptions {
  /** Submissions one gateway lets through per half-open period (they become the probes). */
  halfOpenAdmits: number;
  /** An open breaker this long past its retry time is ignored (the leader would have moved it). */
  staleGraceMs: number;
}

export interface IntakeCheck {
  check(capability: string, priority: Priority): void;
}

export class IntakeGuard implements IntakeCheck {
  private readonly breakers = new Map<string, BreakerState>();
  private readonly sheds = new Map<string, ShedState>();
  private readonly admitted = new Map<string, { since: string; n: number }>();
  private readonly stops: Array<() => void> = [];

  constructor(
    private readonly opts: IntakeGuardOptions,
    private readonly onRefuse: (capability: string, reason: 'breaker_open' | 'load_shed') => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async watch(kv: KV): Promise<void> {
    await Promise.all([this.follow(kv, 'breaker.capability.'), this.follow(kv, 'shed.')]);
  }

  stop(): void {
    for (const s of this.stops.splice(0)) s();
  }

  /** A state arrived (bucket key and its value; undefined = deleted). */
  apply(key: string, value: BreakerState | ShedState | undefined): void {
    if (key.startsWith('breaker.capability.')) {
      const cap = key.slice('breaker.capability.'.length);
      if (!value || (value as BreakerState).state === 'closed') this.breakers.delete(cap);
      else this.breakers.set(cap, value as BreakerState);
    } else if (key.startsWith('shed.')) {
      const cap = key.slice('shed.'.length);
      if (!value || (value as ShedState).level === 'none') this.sheds.delete(cap);
      else this.sheds.set(cap, value as ShedState);
    }
  }

  check(capability: string, priority: Priority): void {
    if (this.breakers.size > 0) this.checkBreaker(capability);
    if (this.sheds.size === 0) return;
    const s = this.sheds.get(capability);
    if (!s || !s.shedding.includes(priority) || this.now() >= Date.parse(s.expiresAt)) return;
    this.onRefuse(capability, 'load_shed');
    throw new LoadShedError(`Capability ${capability} is overloaded (${s.pending} queued, ${s.freeCapacity} free slots): ${s.shedding.join(' and ')} priority is shed; high still flows`, {
      retryAfter: s.retryAfterS,
      details: { capability, shedding: s.shedding, level: s.level },
    });
  }

  private checkBreaker(capability: string): void {
    const b = this.breakers.get(capability);
    if (!b) return;
    const now = this.now();
    if (b.state === 'half_open') {
      const a = this.admitted.get(capability);
      const seen = a && a.since === b.since ? a : { since: b.since, n: 0 };
      this.admitted.set(capability, seen);
      if (seen.n < this.opts.halfOpenAdmits) {
        seen.n++;
        return;
      }
      this.onRefuse(capability, 'breaker_open');
      throw new CapabilityUnavailableError(`Capability ${capability} is being probed after failing everywhere; retry shortly`, { retryAfter: 1, details: { capability, breaker: 'half_open' } });
    }
    const retryAt = b.retryAt ? Date.parse(b.retryAt) : now;
    if (now >= retryAt + this.opts.staleGraceMs) return;
    const retryAfter = Math.max(1, Math.ceil((retryAt - now) / 1000));
    this.onRefuse(capability, 'breaker_open');
    throw new CapabilityUnavailableError(`Capability ${capability} is failing on every agent; its circuit breaker is open`, { retryAfter, details: { capability, breaker: 'open', reason: b.reason, retryAt: b.retryAt } });
  }

  private async follow(kv: KV, prefix: string): Promise<void> {
    const w = await kv.watch({ key: `${prefix}>` });
    this.stops.push(() => w.stop());
    void (async () => {
      for await (const e of w) {
        if (e.operation !== 'PUT' || e.length === 0) {
          this.apply(e.key, undefined);
          continue;
        }
        try {
          this.apply(e.key, e.json<BreakerState | ShedState>());
        } catch {
          // not a state: ignored
        }
      }
    })().catch(() => undefined);
  }
}
