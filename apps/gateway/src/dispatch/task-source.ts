/**
 * Where the dispatcher gets queued tasks: the work queue's durable consumers (one per
 * capability and priority, `Durables.taskQueue`), pulled without waiting, highest priority
 * first. One pull per consumer at a time (NoWaitPuller's rule); the takes that arrive while one is
 * under way are served together by the next, one pull for all they want, its messages shared in
 * arrival order. So a busy fleet's many small takes cost a few pulls, not one each in a line. A take that finds nothing waits for an enqueue hint
 * (`<prefix>.internal.tasks.ready.<capability>.<priority>`), a wake-up for its agent (a breaker
 * of its closed or went half-open) or its deadline.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { type Names, type Priority, PRIORITIES } from '@sb/contracts';
import { NoWaitPuller, type PulledMessage, type Topology } from '@sb/messaging';

/** How many tasks of a capability may be pulled now (the breaker gate), and the part of that not pulled after all. */
export interface PullBudget {
  reserve(capability: string, want: number): number;
  refund(capability: string, n: number): void;
}

/** A waiting take also looks for work this often: redeliveries after a backoff, and tasks handed back, come without a hint. */
export const TAKE_POLL_MS = 250;

/** The most one pull asks for (the takes beyond it wait for the next). */
const MAX_PULL_BATCH = 256;

interface Demand {
  want: number;
  resolve: (msgs: PulledMessage[]) => void;
  reject: (err: unknown) => void;
}

export class TaskSource {
  private readonly puller: NoWaitPuller;
  /** Per consumer: what takes want from its next pull, in arrival order. */
  private readonly demand = new Map<string, Demand[]>();
  /** Consumers with a pull under way. */
  private readonly pulling = new Set<string>();
  /**
   * Consumers a pull found drained, and when: not pulled again until a hint for their capability
   * (an enqueue, a hand-back) or the poll period (redeliveries after a backoff come unannounced).
   * A take so costs no pull of the priorities that have nothing.
   */
  private readonly drained = new Map<string, number>();
  /** Per capability (`c.<capability>`) and agent (`a.<agentId>`): takes waiting for work. */
  private readonly waiting = new Map<string, Set<() => void>>();
  private readonly ensured = new Map<string, Promise<void>>();
  /** Wake-ups so far, and the last one per key: a take that looked before a wake-up does not sleep through it. */
  private seq = 0;
  private readonly lastWake = new Map<string, number>();

  constructor(
    nc: NatsConnection,
    private readonly n: Names,
    private readonly topology: Pick<Topology, 'ensureDurable'>,
    /** A waiting take also looks this often: redeliveries after a backoff come without a hint. */
    private readonly pollMs = TAKE_POLL_MS,
  ) {
    this.puller = new NoWaitPuller(nc);
  }

  /** Up to `max` deliveries of these capabilities, high priority first, each capability within `budget`; none when the queues are empty. */
  async pull(capabilities: readonly string[], max: number, budget?: PullBudget): Promise<PulledMessage[]> {
    const out: PulledMessage[] = [];
    for (const priority of PRIORITIES) {
      for (const capability of capabilities) {
        if (out.length >= max) return out;
        if (this.isDrained(this.n.queue.consumer(capability, priority))) continue;
        const want = budget ? budget.reserve(capability, max - out.length) : max - out.length;
        if (want <= 0) continue;
        let got: PulledMessage[] = [];
        try {
          got = await this.pullOne(capability, priority, want);
        } finally {
          if (budget && got.length < want) budget.refund(capability, want - got.length);
        }
        out.push(...got);
      }
    }
    return out;
  }

  /** Where the wake-ups are now: pass it to `waitForWork` to wake at once for one that came after it. */
  mark(): number {
    return this.seq;
  }

  /**
   * Resolves when any of `capabilities` gets work, `agentId` is woken, or after `ms` (at most the
   * poll period); at once when that happened after `since` (a `mark()` taken before looking).
   */
  waitForWork(capabilities: readonly string[], ms: number, agentId?: string, since?: number): Promise<void> {
    ms = Math.min(ms, this.pollMs);
    if (ms <= 0) return Promise.resolve();
    const keys = capabilities.map((c) => `c.${c}`);
    if (agentId) keys.push(`a.${agentId}`);
    if (since !== undefined && keys.some((k) => (this.lastWake.get(k) ?? 0) > since)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        for (const k of keys) {
          const set = this.waiting.get(k);
          set?.delete(wake);
          if (set && !set.size) this.waiting.delete(k);
        }
        resolve();
      };
      const timer = setTimeout(wake, ms);
      for (const k of keys) {
        let set = this.waiting.get(k);
        if (!set) this.waiting.set(k, (set = new Set()));
        set.add(wake);
      }
    });
  }

  /**
   * An enqueue hint for a capability (or a task of it handed back, or a parked one may start now):
   * look again, and wake the takes waiting for it. With a priority (an enqueue hint names one),
   * only that priority's queue is looked at again: the others stay drained until their own hint or
   * the poll period, so a take at low load costs one pull, not one per priority.
   */
  hinted(capability: string, priority?: Priority): void {
    for (const p of priority ? [priority] : PRIORITIES) this.drained.delete(this.n.queue.consumer(capability, p));
    this.wake(`c.${capability}`);
  }

  private isDrained(consumer: string): boolean {
    const at = this.drained.get(consumer);
    if (at === undefined) return false;
    if (Date.now() - at < this.pollMs) return true;
    this.drained.delete(consumer);
    return false;
  }

  /** Something changed for one agent (a breaker of its closed or went half-open): wake its waiting takes. */
  wakeAgent(agentId: string): void {
    this.wake(`a.${agentId}`);
  }

  close(): void {
    this.puller.close();
    for (const set of [...this.waiting.values()]) for (const wake of [...set]) wake();
  }

  private wake(key: string): void {
    this.lastWake.set(key, ++this.seq);
    const set = this.waiting.get(key);
    if (!set?.size) return;
    for (const wake of [...set]) wake();
  }

  private async pullOne(capability: string, priority: (typeof PRIORITIES)[number], batch: number): Promise<PulledMessage[]> {
    const consumer = this.n.queue.consumer(capability, priority);
    await this.ensure(capability, priority, consumer);
    return new Promise<PulledMessage[]>((resolve, reject) => {
      let queue = this.demand.get(consumer);
      if (!queue) this.demand.set(consumer, (queue = []));
      queue.push({ want: batch, resolve, reject });
      if (!this.pulling.has(consumer)) void this.pullFor(consumer);
    });
  }

  /** One pull at a time from `consumer`, each for what the takes waiting now want (up to MAX_PULL_BATCH), shared out in order. */
  private async pullFor(consumer: string): Promise<void> {
    this.pulling.add(consumer);
    try {
      for (;;) {
        const queue = this.demand.get(consumer);
        if (!queue?.length) return;
        const served: Demand[] = [];
        let total = 0;
        while (queue.length && (served.length === 0 || total + queue[0]!.want <= MAX_PULL_BATCH)) {
          const d = queue.shift()!;
          served.push(d);
          total += d.want;
        }
        if (!queue.length) this.demand.delete(consumer);
        let msgs: PulledMessage[];
        try {
          msgs = await this.puller.pull(this.n.queue.stream, consumer, total);
        } catch (err) {
          for (const d of served) d.reject(err);
          continue;
        }
        if (msgs.length < total) this.drained.set(consumer, Date.now());
        else this.drained.delete(consumer);
        let at = 0;
        for (const d of served) {
          d.resolve(msgs.slice(at, at + d.want));
          at += d.want;
        }
      }
    } finally {
      this.pulling.delete(consumer);
    }
  }

  /** The consumer exists from the first take of its capability on (created by its owner's declaration, once per process). */
  private ensure(capability: string, priority: (typeof PRIORITIES)[number], consumer: string): Promise<void> {
    let p = this.ensured.get(consumer);
    if (!p) {
      p = this.topology.ensureDurable('taskQueue', { capability, priority }).catch((e: unknown) => {
        this.ensured.delete(consumer);
        throw e;
      });
      this.ensured.set(consumer, p);
    }
    return p;
  }
}
