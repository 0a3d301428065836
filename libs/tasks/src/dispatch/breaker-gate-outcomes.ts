/**
 * Attempt outcomes for the circuit breakers, tallied in memory per capability and published
 * as one small batch every `flushMs` (nothing is sent while idle). Recording is a few field
 * updates, so the CPU-bound task path pays nothing measurable; ordering within a batch is kept
 * only where the breaker needs it (the failures after the last success: the streak).
 */
import { ERROR_CLASSES, type ErrorClass, type OutcomeBatch, type OutcomeTally } from '@sb/contracts';

const MAX_TAIL = 64;

export interface OutcomeSink {
  record(capability: string, outcome: 'ok' | ErrorClass): void;
}

interface Tally {
  ok: number;
  failed: Partial<Record<ErrorClass, number>>;
  sawSuccess: boolean;
  tail: ErrorClass[];
}

export class OutcomeReporter implements OutcomeSink {
  private tallies = new Map<string, Tally>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly agentId: string,
    private readonly capabilities: string[],
    private readonly publish: (batch: OutcomeBatch) => void,
    private readonly flushMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.flush(), this.flushMs);
    this.timer.unref?.();
  }

  /** Flush what is left and stop. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }

  record(capability: string, outcome: 'ok' | ErrorClass): void {
    let t = this.tallies.get(capability);
    if (!t) {
      t = { ok: 0, failed: {}, sawSuccess: false, tail: [] };
      this.tallies.set(capability, t);
    }
    if (outcome === 'ok') {
      t.ok++;
      t.sawSuccess = true;
      t.tail.length = 0;
      return;
    }
    if (!ERROR_CLASSES.includes(outcome)) return;
    t.failed[outcome] = (t.failed[outcome] ?? 0) + 1;
    if (t.tail.length < MAX_TAIL) t.tail.push(outcome);
  }

  /** Publish and reset the tallies (no message when there were no attempts). */
  flush(): OutcomeBatch | undefined {
    if (this.tallies.size === 0) return undefined;
    const tallies: OutcomeTally[] = [];
    for (const [capability, t] of this.tallies) tallies.push({ capability, ok: t.ok, failed: t.failed, sawSuccess: t.sawSuccess, tail: t.tail });
    this.tallies = new Map();
    const batch: OutcomeBatch = { agentId: this.agentId, sentAt: this.now(), capabilities: this.capabilities, tallies };
    this.publish(batch);
    return batch;
  }
}
