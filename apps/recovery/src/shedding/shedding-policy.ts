/**
 * Load shedding decisions, one capability at a time, as a pure function of readings and time.
 *
 * deficit = tasks waiting in the queue − free healthy slots (capacity − in-flight on up, ready
 * agents hosting it whose breaker is not open). Levels: `low` sheds low priority, `normal`
 * sheds low and normal; high always flows.
 *   - enter at once: deficit ≥ lowDeficit → low; deficit ≥ normalDeficit or pending ≥ backlogLimit → normal
 *   - leave with hysteresis: the level the reading would have under thresholds × clearRatio
 *     must stay below the current one for clearHoldMs before the level steps down to it.
 */
import { type Priority, SHED_LEVELS, SHED_PRIORITIES, type ShedLevel, type ShedState } from '@sb/contracts';

export interface ShedPolicy {
  lowDeficit: number;
  normalDeficit: number;
  backlogLimit: number;
  /** 0..1: how far below its entry threshold a reading must fall before the level clears. */
  clearRatio: number;
  clearHoldMs: number;
  retryAfterS: number;
  /** A degraded state not refreshed within this is ignored by gateways (the leader refreshes it every tick). */
  stateTtlMs: number;
}

export interface CapacityReading {
  capability: string;
  freeCapacity: number;
  agentsUp: number;
  pendingByPriority: Record<Priority, number>;
}

interface Held {
  level: ShedLevel;
  since: number;
  reason: ShedState['reason'];
  /** When the reading first allowed a lower level (hysteresis), or null. */
  clearingSince: number | null;
}

const rank = (l: ShedLevel) => SHED_LEVELS.indexOf(l);

export class ShedDecider {
  private readonly held = new Map<string, Held>();

  constructor(private readonly policy: ShedPolicy) {}

  /** The capability's state after this reading, and whether its level changed. */
  decide(r: CapacityReading, now: number, epoch = 0): { state: ShedState; changed: boolean } {
    const pending = r.pendingByPriority.high + r.pendingByPriority.normal + r.pendingByPriority.low;
    const deficit = pending - r.freeCapacity;
    const entry = this.levelFor(deficit, pending, 1);
    let h = this.held.get(r.capability);
    if (!h) {
      h = { level: 'none', since: now, reason: null, clearingSince: null };
      this.held.set(r.capability, h);
    }
    const before = h.level;
    if (rank(entry.level) > rank(h.level)) {
      Object.assign(h, { level: entry.level, since: now, reason: entry.reason, clearingSince: null });
    } else if (rank(entry.level) === rank(h.level) && h.level !== 'none') {
      h.reason = entry.reason;
      h.clearingSince = this.holdOrClear(h, deficit, pending, now);
    } else if (h.level !== 'none') {
      h.clearingSince = this.holdOrClear(h, deficit, pending, now);
    }
    return { state: this.toState(r, h, pending, now, epoch), changed: before !== h.level };
  }

  /** Capabilities with a reading no longer (no agents, no queue): forget them. */
  forget(capability: string): void {
    this.held.delete(capability);
  }

  levelOf(capability: string): ShedLevel {
    return this.held.get(capability)?.level ?? 'none';
  }

  private holdOrClear(h: Held, deficit: number, pending: number, now: number): number | null {
    const lower = this.levelFor(deficit, pending, this.policy.clearRatio);
    if (rank(lower.level) >= rank(h.level)) return null;
    const since = h.clearingSince ?? now;
    if (now - since < this.policy.clearHoldMs) return since;
    h.level = lower.level;
    h.since = now;
    h.reason = lower.level === 'none' ? null : lower.reason;
    return null;
  }

  private levelFor(deficit: number, pending: number, scale: number): { level: ShedLevel; reason: ShedState['reason'] } {
    const p = this.policy;
    if (pending >= p.backlogLimit * scale) return { level: 'normal', reason: 'backlog' };
    if (deficit >= p.normalDeficit * scale) return { level: 'normal', reason: 'deficit' };
    if (deficit >= p.lowDeficit * scale) return { level: 'low', reason: 'deficit' };
    return { level: 'none', reason: null };
  }

  private toState(r: CapacityReading, h: Held, pending: number, now: number, epoch: number): ShedState {
    return {
      capability: r.capability,
      level: h.level,
      shedding: [...SHED_PRIORITIES[h.level]],
      reason: h.level === 'none' ? null : h.reason,
      freeCapacity: r.freeCapacity,
      pending,
      pendingByPriority: { ...r.pendingByPriority },
      agentsUp: r.agentsUp,
      since: new Date(h.since).toISOString(),
      updatedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.policy.stateTtlMs).toISOString(),
      retryAfterS: this.policy.retryAfterS,
      epoch,
    };
  }
}
