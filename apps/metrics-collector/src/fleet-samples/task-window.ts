/**
 * Task outcomes and durations per capability over a sliding window (FLEET_WINDOW_MS), from the
 * deltas of the agents' cumulative `sb_agent_tasks_total` and `sb_agent_task_duration_seconds`.
 * The window is a ring of SLOTS time slots, so memory is capabilities × SLOTS.
 */
import { addBuckets, type Bucket, quantile, toBuckets } from '../ingestion/histogram-math';

const SLOTS = 30;
/** Outcomes that count as a failed attempt; the ratio's denominator adds `succeeded`. */
export const ERROR_OUTCOMES: ReadonlySet<string> = new Set(['failed', 'dead_lettered', 'timed_out']);

interface Slot {
  start: number;
  caps: Map<string, { succeeded: number; errors: number; buckets: Map<number, number>; count: number }>;
}

export interface CapabilityStats {
  capability: string;
  finished: number;
  errors: number;
  errorRatio: number | null;
  p95Seconds: number | null;
}

export class TaskWindow {
  private readonly slots: Slot[] = [];
  private readonly slotMs: number;

  constructor(readonly windowMs: number) {
    this.slotMs = Math.max(1, Math.floor(windowMs / SLOTS));
  }

  addOutcomes(capability: string, outcome: string, delta: number, now: number): void {
    if (!(delta > 0)) return;
    const c = this.cap(capability, now);
    if (outcome === 'succeeded') c.succeeded += delta;
    else if (ERROR_OUTCOMES.has(outcome)) c.errors += delta;
  }

  addDurations(capability: string, buckets: Bucket[], count: number, now: number): void {
    if (!(count > 0)) return;
    const c = this.cap(capability, now);
    addBuckets(c.buckets, buckets);
    c.count += count;
  }

  stats(now: number): CapabilityStats[] {
    const acc = new Map<string, { succeeded: number; errors: number; buckets: Map<number, number>; count: number }>();
    for (const s of this.slots) {
      if (s.start <= now - this.windowMs) continue;
      for (const [cap, v] of s.caps) {
        let a = acc.get(cap);
        if (!a) acc.set(cap, (a = { succeeded: 0, errors: 0, buckets: new Map(), count: 0 }));
        a.succeeded += v.succeeded;
        a.errors += v.errors;
        a.count += v.count;
        for (const [le, n] of v.buckets) a.buckets.set(le, (a.buckets.get(le) ?? 0) + n);
      }
    }
    return [...acc].map(([capability, a]) => {
      const finished = a.succeeded + a.errors;
      return { capability, finished, errors: a.errors, errorRatio: finished > 0 ? a.errors / finished : null, p95Seconds: quantile(0.95, toBuckets(a.buckets), a.count) };
    });
  }

  private cap(capability: string, now: number) {
    const start = now - (now % this.slotMs);
    let slot = this.slots[this.slots.length - 1];
    if (!slot || slot.start !== start) {
      slot = { start, caps: new Map() };
      this.slots.push(slot);
      while (this.slots.length > SLOTS + 1 || (this.slots.length > 0 && this.slots[0].start <= now - this.windowMs - this.slotMs)) this.slots.shift();
    }
    let c = slot.caps.get(capability);
    if (!c) slot.caps.set(capability, (c = { succeeded: 0, errors: 0, buckets: new Map(), count: 0 }));
    return c;
  }
}
