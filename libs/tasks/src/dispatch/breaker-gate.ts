/**
 * The worker's side of the circuit breakers: it watches its own agent breakers in the
 * resilience bucket (`breaker.agent.<workerId>.*`; a restarted worker learns the current
 * state at once) and tells the puller how many tasks of a capability it may take now:
 * none while open, the breaker's probe count once per half-open period, any number when
 * closed. When a breaker closes or goes half-open the puller is woken.
 */
import type { KV } from '@nats-io/kv';
import type { BreakerState } from '@sb/contracts';

interface Entry {
  state: BreakerState['state'];
  probesLeft: number;
}

export class BreakerGate {
  private readonly entries = new Map<string, Entry>();
  private stopWatch?: () => void;

  constructor(
    private readonly agentId: string,
    private readonly onOpenUp: () => void = () => undefined,
  ) {}

  /** Follow the bucket (current values first, then every change). */
  async watch(kv: KV): Promise<void> {
    const prefix = `breaker.agent.${this.agentId}.`;
    const w = await kv.watch({ key: `${prefix}>` });
    this.stopWatch = () => w.stop();
    void (async () => {
      for await (const e of w) {
        const capability = e.key.slice(prefix.length);
        if (e.operation !== 'PUT' || e.length === 0) {
          this.apply(capability, undefined);
          continue;
        }
        try {
          this.apply(capability, e.json<BreakerState>());
        } catch {
          // not a breaker state: ignored
        }
      }
    })().catch(() => undefined);
  }

  stop(): void {
    this.stopWatch?.();
  }

  /** A breaker state for this agent arrived (from the bucket, or directly in tests). */
  apply(capability: string, s: BreakerState | undefined): void {
    const prev = this.entries.get(capability);
    if (!s || s.state === 'closed') {
      this.entries.delete(capability);
      if (prev) this.onOpenUp();
      return;
    }
    if (s.state === 'half_open') {
      if (prev?.state !== 'half_open') {
        this.entries.set(capability, { state: 'half_open', probesLeft: Math.max(1, s.probes) });
        this.onOpenUp();
      }
      return;
    }
    this.entries.set(capability, { state: 'open', probesLeft: 0 });
  }

  /** How many of `want` tasks of `capability` may be taken now. */
  allow(capability: string, want: number): number {
    const e = this.entries.get(capability);
    if (!e) return want;
    return Math.min(want, e.probesLeft);
  }

  /** `n` tasks of `capability` were taken (spends half-open probes). */
  took(capability: string, n: number): void {
    const e = this.entries.get(capability);
    if (e && n > 0) e.probesLeft = Math.max(0, e.probesLeft - n);
  }

  /** Capabilities this worker does not pull right now. */
  blocked(): string[] {
    return [...this.entries].filter(([, e]) => e.probesLeft === 0).map(([c]) => c);
  }
}
