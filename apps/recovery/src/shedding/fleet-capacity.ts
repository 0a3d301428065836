/**
 * What the fleet can take right now, per capability: agents' capacity and in-flight counts
 * from their heartbeats, their capabilities from registrations (or the outcome batches as a
 * fallback), liveness from heartbeat age and down/left events. Pure: the
 * runner feeds it messages and the time.
 */
import type { AgentRegistration, Heartbeat, Priority } from '@sb/contracts';
import type { CapacityReading } from './shedding-policy';

interface AgentView {
  capabilities: Set<string>;
  capacity: number;
  inFlight: number;
  ready: boolean;
  lastBeat: number;
  gone: boolean;
}

export class FleetCapacity {
  private readonly agents = new Map<string, AgentView>();

  /** `downAfterMs`: a heartbeat older than this makes an agent not count (matches the collector's threshold). */
  constructor(private readonly downAfterMs: number) {}

  heartbeat(hb: Pick<Heartbeat, 'agentId' | 'status' | 'capacity' | 'inFlight'>, now: number): void {
    const a = this.view(hb.agentId);
    a.capacity = hb.capacity;
    a.inFlight = hb.inFlight;
    a.ready = hb.status !== 'draining';
    a.lastBeat = now;
    a.gone = false;
  }

  registered(r: Pick<AgentRegistration, 'agentId' | 'capabilities'>): void {
    const a = this.view(r.agentId);
    a.capabilities = new Set(r.capabilities);
    a.gone = false;
  }

  /** Capabilities an agent reported working on (outcome batches). */
  offers(agentId: string, capabilities: string[]): void {
    const a = this.view(agentId);
    for (const c of capabilities) a.capabilities.add(c);
  }

  /** Down or left: it takes no work until it beats again. */
  gone(agentId: string): void {
    const a = this.agents.get(agentId);
    if (a) a.gone = true;
  }

  capabilities(): Set<string> {
    const out = new Set<string>();
    for (const a of this.agents.values()) for (const c of a.capabilities) out.add(c);
    return out;
  }

  /**
   * Readings for `capabilities`, given the queue and which (agent, capability) breakers are open.
   * Agents unseen for 10× the down threshold are forgotten.
   */
  readings(capabilities: Iterable<string>, pending: (c: string) => Record<Priority, number>, breakerOpen: (agentId: string, c: string) => boolean, now: number): CapacityReading[] {
    for (const [id, a] of this.agents) if (a.lastBeat > 0 && now - a.lastBeat > this.downAfterMs * 10) this.agents.delete(id);
    const out: CapacityReading[] = [];
    for (const c of capabilities) {
      let free = 0;
      let up = 0;
      for (const [id, a] of this.agents) {
        if (!a.capabilities.has(c) || a.gone || !a.ready || a.lastBeat === 0 || now - a.lastBeat > this.downAfterMs) continue;
        if (breakerOpen(id, c)) continue;
        up++;
        free += Math.max(0, a.capacity - a.inFlight);
      }
      out.push({ capability: c, freeCapacity: free, agentsUp: up, pendingByPriority: pending(c) });
    }
    return out;
  }

  private view(agentId: string): AgentView {
    let a = this.agents.get(agentId);
    if (!a) {
      a = { capabilities: new Set(), capacity: 0, inFlight: 0, ready: true, lastBeat: 0, gone: false };
      this.agents.set(agentId, a);
    }
    return a;
  }
}
