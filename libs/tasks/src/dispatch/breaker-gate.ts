/**
 * The taking side of the circuit breakers: it follows the agent breakers in the resilience
 * bucket (`breaker.agent.<agentId>.<capability>`; one watch for every agent, or one agent's
 * keys; current values first, so a restarted process learns the state at once) and says how
 * many tasks of a capability an agent may be handed now: none while open, the breaker's probe
 * count once per half-open period, any number when closed. When a breaker closes or goes
 * half-open, `onOpenUp(agentId, capability)` fires so a take waiting for work looks again.
 * Only breakers that are not closed are kept, so the state is as small as the bucket's.
 */
import type { KV } from '@nats-io/kv';
import type { BreakerState } from '@sb/contracts';

const PREFIX = 'breaker.agent.';

interface Entry {
  state: BreakerState['state'];
  probes: number;
  probesLeft: number;
}

/** One agent's view of the gate (what a single-agent puller needs). */
export interface AgentGate {
  allow(capability: string, want: number): number;
  took(capability: string, n: number): void;
  blocked(): string[];
}

export class BreakerGate {
  /** agentId → capability → breaker (not closed). */
  private readonly agents = new Map<string, Map<string, Entry>>();
  private stopWatch?: () => void;

  constructor(private readonly onOpenUp: (agentId: string, capability: string) => void = () => undefined) {}

  /** Follow the bucket (current values first, then every change): every agent's breakers, or only `agentId`'s. */
  async watch(kv: KV, agentId?: string): Promise<void> {
    const w = await kv.watch({ key: agentId ? `${PREFIX}${agentId}.>` : `${PREFIX}>` });
    this.stopWatch = () => w.stop();
    void (async () => {
      for await (const e of w) {
        const rest = e.key.slice(PREFIX.length);
        const dot = rest.indexOf('.');
        if (dot <= 0) continue;
        const [agent, capability] = [rest.slice(0, dot), rest.slice(dot + 1)];
        if (e.operation !== 'PUT' || e.length === 0) {
          this.apply(agent, capability, undefined);
          continue;
        }
        try {
          this.apply(agent, capability, e.json<BreakerState>());
        } catch {
          // not a breaker state: ignored
        }
      }
    })().catch(() => undefined);
  }

  stop(): void {
    this.stopWatch?.();
  }

  /** A breaker state arrived (from the bucket, or directly in tests); undefined = deleted (forgotten: closed). */
  apply(agentId: string, capability: string, s: BreakerState | undefined): void {
    let mine = this.agents.get(agentId);
    const prev = mine?.get(capability);
    if (!s || s.state === 'closed') {
      if (!prev) return;
      mine!.delete(capability);
      if (!mine!.size) this.agents.delete(agentId);
      this.onOpenUp(agentId, capability);
      return;
    }
    if (!mine) this.agents.set(agentId, (mine = new Map()));
    if (s.state === 'half_open') {
      if (prev?.state !== 'half_open') {
        const probes = Math.max(1, s.probes);
        mine.set(capability, { state: 'half_open', probes, probesLeft: probes });
        this.onOpenUp(agentId, capability);
      }
      return;
    }
    mine.set(capability, { state: 'open', probes: 0, probesLeft: 0 });
  }

  /** How many of `want` tasks of `capability` `agentId` may be handed now. */
  allow(agentId: string, capability: string, want: number): number {
    const e = this.agents.get(agentId)?.get(capability);
    return e ? Math.min(want, e.probesLeft) : want;
  }

  /** `n` tasks of `capability` were handed to `agentId` (spends half-open probes). */
  took(agentId: string, capability: string, n: number): void {
    const e = this.agents.get(agentId)?.get(capability);
    if (e && n > 0) e.probesLeft = Math.max(0, e.probesLeft - n);
  }

  /** Probes set aside by `took` that were not handed out after all (never more than the period's count). */
  gaveBack(agentId: string, capability: string, n: number): void {
    const e = this.agents.get(agentId)?.get(capability);
    if (e?.state === 'half_open' && n > 0) e.probesLeft = Math.min(e.probes, e.probesLeft + n);
  }

  /** The capabilities `agentId` is handed nothing of right now. */
  blocked(agentId: string): string[] {
    return [...(this.agents.get(agentId) ?? [])].filter(([, e]) => e.probesLeft === 0).map(([c]) => c);
  }

  /** One agent's view (the bundled worker's puller). */
  forAgent(agentId: string): AgentGate {
    return {
      allow: (capability, want) => this.allow(agentId, capability, want),
      took: (capability, n) => this.took(agentId, capability, n),
      blocked: () => this.blocked(agentId),
    };
  }
}
