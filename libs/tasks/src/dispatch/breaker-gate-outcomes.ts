/**
 * Attempt outcomes for the circuit breakers, tallied in memory per agent and capability and
 * published as one small batch per agent every `flushMs` (nothing is sent while idle) on
 * `names.resilience.outcomes(agentId)`, which recovery's breakers consume. Recording is a few
 * field updates, so the task path pays nothing measurable; ordering within a batch is kept only
 * where the breaker needs it (the failures after the last success: the streak).
 *
 * `OutcomeReporter` is one agent's tallies (a worker reporting for itself); `AgentOutcomes`
 * keeps one per agent for a dispatcher that serves many, created on an agent's first outcome
 * and dropped once it went down or left, or stayed idle, and its last batch went out.
 */
import { ERROR_CLASSES, type ErrorClass, type OutcomeBatch, type OutcomeTally } from '@sb/contracts';

const MAX_TAIL = 64;

export type AttemptOutcome = 'ok' | ErrorClass;

export interface OutcomeSink {
  record(capability: string, outcome: AttemptOutcome): void;
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
    /** The agent's capabilities, sent with every batch (recovery's capacity view); may be replaced. */
    public capabilities: readonly string[],
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

  record(capability: string, outcome: AttemptOutcome): void {
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
    const batch: OutcomeBatch = { agentId: this.agentId, sentAt: this.now(), capabilities: [...this.capabilities], tallies };
    this.publish(batch);
    return batch;
  }
}

/** What a dispatcher records: the attempt of `agentId` (registered with `capabilities`) on a task of `capability`. */
export interface AgentOutcomeSink {
  record(agentId: string, capabilities: readonly string[], capability: string, outcome: AttemptOutcome): void;
  /** The agent went down or left: its reporter goes once its last outcomes are sent. */
  gone(agentId: string): void;
}

interface AgentEntry {
  reporter: OutcomeReporter;
  lastRecord: number;
  gone: boolean;
}

export class AgentOutcomes implements AgentOutcomeSink {
  private readonly agents = new Map<string, AgentEntry>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly publish: (batch: OutcomeBatch) => void,
    private readonly flushMs: number,
    /** A reporter with nothing recorded for this long is dropped too (made again on the next outcome). */
    private readonly idleDropMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.flush(), this.flushMs);
    this.timer.unref?.();
  }

  /** Flush what is left and stop. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }

  record(agentId: string, capabilities: readonly string[], capability: string, outcome: AttemptOutcome): void {
    let e = this.agents.get(agentId);
    if (!e) {
      e = { reporter: new OutcomeReporter(agentId, capabilities, this.publish, this.flushMs, this.now), lastRecord: 0, gone: false };
      this.agents.set(agentId, e);
    }
    e.reporter.capabilities = capabilities;
    e.lastRecord = this.now();
    e.gone = false;
    e.reporter.record(capability, outcome);
  }

  gone(agentId: string): void {
    const e = this.agents.get(agentId);
    if (e) e.gone = true;
  }

  /** One batch per agent with outcomes since the last flush; drops reporters of departed or idle agents. */
  flush(): OutcomeBatch[] {
    const sent: OutcomeBatch[] = [];
    const now = this.now();
    for (const [agentId, e] of this.agents) {
      const b = e.reporter.flush();
      if (b) sent.push(b);
      else if (e.gone || now - e.lastRecord >= this.idleDropMs) this.agents.delete(agentId);
    }
    return sent;
  }

  /** Agents with a reporter (for tests and metrics). */
  get size(): number {
    return this.agents.size;
  }
}
