/**
 * Every breaker the recovery leader decides: one per agent and capability, fed by the
 * workers' outcome batches, and one per capability derived from them: a capability is open
 * when every agent breaker for it is open (nobody can do it: the gateway refuses at once),
 * half-open when none is closed but some probe, closed otherwise. Pure: time comes in as ms.
 */
import type { BreakerState, BreakerStateName, ErrorClass, OutcomeBatch } from '@sb/contracts';
import { type BreakerPolicy, CircuitBreaker, type CountedTally } from './circuit-breaker';

export interface BoardPolicy extends BreakerPolicy {
  /** Failure classes that count against an agent (agent_error always; timeout by default). */
  counted: ReadonlySet<ErrorClass>;
  /** An agent breaker with no outcome for this long is forgotten (the agent left or was replaced). */
  staleMs: number;
}

interface AgentEntry {
  agentId: string;
  capability: string;
  breaker: CircuitBreaker;
  lastSeen: number;
}

interface CapabilityEntry {
  state: BreakerStateName;
  since: number;
  retryAt: number | null;
}

export class BreakerBoard {
  private readonly agents = new Map<string, AgentEntry>();
  private readonly caps = new Map<string, CapabilityEntry>();

  constructor(
    private readonly policy: BoardPolicy,
    private readonly epoch: () => number = () => 0,
  ) {}

  /** Apply one batch; returns the breakers that changed (agent scope first, then their capabilities). */
  ingest(batch: OutcomeBatch, now: number): BreakerState[] {
    const changed: BreakerState[] = [];
    const touched = new Set<string>();
    for (const t of batch.tallies) {
      const key = `${batch.agentId}.${t.capability}`;
      let e = this.agents.get(key);
      if (!e) {
        e = { agentId: batch.agentId, capability: t.capability, breaker: new CircuitBreaker(this.policy, now), lastSeen: now };
        this.agents.set(key, e);
      }
      e.lastSeen = now;
      touched.add(t.capability);
      if (e.breaker.record(this.count(t), now)) changed.push(this.agentState(e, now));
    }
    return [...changed, ...this.derive(touched, now)];
  }

  /** Take over the broadcast agent breakers (a new leader); capability states are derived again. */
  restore(states: BreakerState[], now: number): void {
    const touched = new Set<string>();
    for (const s of states) {
      if (s.scope !== 'agent' || !s.agentId || s.state === 'closed') continue;
      const breaker = new CircuitBreaker(this.policy, now);
      breaker.restore(s.state, Date.parse(s.since) || now, s.retryAt ? Date.parse(s.retryAt) : null, s.reason);
      this.agents.set(`${s.agentId}.${s.capability}`, { agentId: s.agentId, capability: s.capability, breaker, lastSeen: now });
      touched.add(s.capability);
    }
    this.derive(touched, now);
  }

  /** Time passing: cool-downs end (open → half-open), stale agent breakers are dropped. */
  tick(now: number): BreakerState[] {
    const changed: BreakerState[] = [];
    const touched = new Set<string>();
    for (const [key, e] of this.agents) {
      if (now - e.lastSeen > this.policy.staleMs && e.breaker.state !== 'half_open') {
        this.agents.delete(key);
        touched.add(e.capability);
        if (e.breaker.state !== 'closed') changed.push({ ...this.agentState(e, now), state: 'closed', reason: 'forgotten', retryAt: null });
        continue;
      }
      if (e.breaker.tick(now)) {
        changed.push(this.agentState(e, now));
        touched.add(e.capability);
      }
    }
    return [...changed, ...this.derive(touched, now)];
  }

  /** Every breaker that is not closed, plus every capability ever seen (for a full snapshot). */
  snapshot(now: number): BreakerState[] {
    const out: BreakerState[] = [];
    for (const e of this.agents.values()) out.push(this.agentState(e, now));
    for (const cap of this.caps.keys()) out.push(this.capabilityState(cap, now));
    return out;
  }

  /** The agent breaker's state for (agent, capability), `closed` when unknown. */
  stateOf(agentId: string, capability: string): BreakerStateName {
    return this.agents.get(`${agentId}.${capability}`)?.breaker.state ?? 'closed';
  }

  capabilityStateOf(capability: string): BreakerStateName {
    return this.caps.get(capability)?.state ?? 'closed';
  }

  private count(t: OutcomeBatch['tallies'][number]): CountedTally {
    let failed = 0;
    for (const [cls, n] of Object.entries(t.failed)) if (this.policy.counted.has(cls as ErrorClass)) failed += n ?? 0;
    const trailing = t.tail.filter((c) => this.policy.counted.has(c)).length;
    return { ok: t.ok, failed, sawSuccess: t.sawSuccess, trailing };
  }

  private derive(capabilities: Set<string>, now: number): BreakerState[] {
    const changed: BreakerState[] = [];
    for (const cap of capabilities) {
      const next = this.combine(cap);
      const prev = this.caps.get(cap);
      if (!prev) {
        this.caps.set(cap, { ...next, since: now });
        if (next.state !== 'closed') changed.push(this.capabilityState(cap, now));
        continue;
      }
      if (prev.state !== next.state || prev.retryAt !== next.retryAt) {
        const stateChanged = prev.state !== next.state;
        this.caps.set(cap, { ...next, since: stateChanged ? now : prev.since });
        if (stateChanged) changed.push(this.capabilityState(cap, now));
      }
    }
    return changed;
  }

  private combine(capability: string): Omit<CapabilityEntry, 'since'> {
    let any = false;
    let halfOpen = false;
    let retryAt: number | null = null;
    for (const e of this.agents.values()) {
      if (e.capability !== capability) continue;
      any = true;
      const s = e.breaker.state;
      if (s === 'closed') return { state: 'closed', retryAt: null };
      if (s === 'half_open') halfOpen = true;
      const r = e.breaker.retryAt;
      if (r !== null && (retryAt === null || r < retryAt)) retryAt = r;
    }
    if (!any) return { state: 'closed', retryAt: null };
    return halfOpen ? { state: 'half_open', retryAt: null } : { state: 'open', retryAt };
  }

  private agentState(e: AgentEntry, now: number): BreakerState {
    const b = e.breaker;
    const w = b.window(now);
    return {
      scope: 'agent',
      key: `${e.agentId}.${e.capability}`,
      capability: e.capability,
      agentId: e.agentId,
      state: b.state,
      since: new Date(b.since).toISOString(),
      retryAt: b.retryAt === null ? null : new Date(b.retryAt).toISOString(),
      reason: b.state === 'closed' ? null : b.reason,
      failures: w.failures,
      attempts: w.attempts,
      consecutive: b.consecutive,
      probes: this.policy.probes,
      epoch: this.epoch(),
    };
  }

  private capabilityState(capability: string, now: number): BreakerState {
    const c = this.caps.get(capability) ?? { state: 'closed' as const, since: now, retryAt: null };
    let failures = 0;
    let attempts = 0;
    for (const e of this.agents.values()) {
      if (e.capability !== capability) continue;
      const w = e.breaker.window(now);
      failures += w.failures;
      attempts += w.attempts;
    }
    return {
      scope: 'capability',
      key: capability,
      capability,
      agentId: null,
      state: c.state,
      since: new Date(c.since).toISOString(),
      retryAt: c.retryAt === null ? null : new Date(c.retryAt).toISOString(),
      reason: c.state === 'open' ? 'all_agents_open' : null,
      failures,
      attempts,
      consecutive: 0,
      probes: this.policy.probes,
      epoch: this.epoch(),
    };
  }
}
