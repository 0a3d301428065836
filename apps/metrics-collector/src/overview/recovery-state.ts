/**
 * What recovery says about capabilities, for the overview's "degraded capabilities": load
 * shedding (refreshed by the recovery leader while it lasts; a state past `expiresAt` no longer
 * counts, so a dead leader cannot leave a capability marked degraded forever) and capability
 * circuit breakers that are not closed.
 */
import type { BreakerState, ShedState } from '@sb/contracts';
import type { Clock } from '@sb/observability';

export class RecoveryStateView {
  private readonly shed = new Map<string, ShedState>();
  private readonly breakers = new Map<string, BreakerState>();

  constructor(private readonly clock: Clock) {}

  /** A state as broadcast; anything without a capability (or no body at all) is ignored. */
  applyShed(s: ShedState | undefined): void {
    if (!s || typeof s.capability !== 'string') return;
    if (s.level === 'none') this.shed.delete(s.capability);
    else this.shed.set(s.capability, s);
  }

  applyBreaker(b: BreakerState | undefined): void {
    if (!b || typeof b.capability !== 'string' || b.scope !== 'capability') return;
    if (b.state === 'closed') this.breakers.delete(b.capability);
    else this.breakers.set(b.capability, b);
  }

  degraded(): Array<{ capability: string; reasons: string[] }> {
    const now = this.clock.now();
    const out = new Map<string, string[]>();
    const add = (c: string, r: string) => out.set(c, [...(out.get(c) ?? []), r]);
    for (const [c, s] of this.shed) {
      if (Date.parse(s.expiresAt) <= now) {
        this.shed.delete(c);
        continue;
      }
      add(c, `shedding ${s.shedding.join(' and ')} priority (${s.reason ?? 'degraded'}: ${s.pending} waiting, ${s.freeCapacity} free slots)`);
    }
    for (const [c, b] of this.breakers) add(c, `circuit breaker ${b.state.replace('_', '-')}${b.reason ? ` (${b.reason.replace(/_/g, ' ')})` : ''}`);
    return [...out].map(([capability, reasons]) => ({ capability, reasons }));
  }
}

/** The overview's list: the collector's own findings and recovery's, one entry per capability. */
export function mergeDegraded(...lists: Array<Array<{ capability: string; reasons: string[] }>>): Array<{ capability: string; reasons: string[] }> {
  const out = new Map<string, string[]>();
  for (const list of lists) for (const d of list) out.set(d.capability, [...(out.get(d.capability) ?? []), ...d.reasons]);
  return [...out].map(([capability, reasons]) => ({ capability, reasons })).sort((a, b) => a.capability.localeCompare(b.capability));
}
