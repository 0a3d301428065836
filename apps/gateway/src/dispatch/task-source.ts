/**
 * Where the dispatcher gets queued tasks: the work queue's durable consumers (one per
 * capability and priority, `Durables.taskQueue`), pulled without waiting, highest priority
 * first. One pull per consumer at a time (NoWaitPuller's rule), so concurrent takes for the same
 * capability queue behind each other. A take that finds nothing waits for an enqueue hint
 * (`<prefix>.internal.tasks.ready.<capability>.<priority>`) or its deadline.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { type Names, PRIORITIES } from '@sb/contracts';
import { NoWaitPuller, type PulledMessage, type Topology } from '@sb/messaging';

export class TaskSource {
  private readonly puller: NoWaitPuller;
  /** Per consumer: the pull under way (the next one starts after it). */
  private readonly busy = new Map<string, Promise<unknown>>();
  /** Per capability: takes waiting for work. */
  private readonly waiting = new Map<string, Set<() => void>>();
  private readonly ensured = new Map<string, Promise<void>>();

  constructor(
    nc: NatsConnection,
    private readonly n: Names,
    private readonly topology: Pick<Topology, 'ensureDurable'>,
    /** A waiting take also looks this often: redeliveries after a backoff come without a hint. */
    private readonly pollMs = 250,
  ) {
    this.puller = new NoWaitPuller(nc);
  }

  /** Up to `max` deliveries of these capabilities, high priority first; none when the queues are empty. */
  async pull(capabilities: readonly string[], max: number): Promise<PulledMessage[]> {
    const out: PulledMessage[] = [];
    for (const priority of PRIORITIES) {
      for (const capability of capabilities) {
        if (out.length >= max) return out;
        out.push(...(await this.pullOne(capability, priority, max - out.length)));
      }
    }
    return out;
  }

  /** Resolves when any of `capabilities` gets work, or after `ms` (at most the poll period). */
  waitForWork(capabilities: readonly string[], ms: number): Promise<void> {
    ms = Math.min(ms, this.pollMs);
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        for (const c of capabilities) this.waiting.get(c)?.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      for (const c of capabilities) {
        let set = this.waiting.get(c);
        if (!set) this.waiting.set(c, (set = new Set()));
        set.add(wake);
      }
    });
  }

  /** An enqueue hint for a capability: wake the takes waiting for it. */
  hinted(capability: string): void {
    const set = this.waiting.get(capability);
    if (!set?.size) return;
    for (const wake of [...set]) wake();
  }

  close(): void {
    this.puller.close();
    for (const set of this.waiting.values()) for (const wake of [...set]) wake();
  }

  private async pullOne(capability: string, priority: (typeof PRIORITIES)[number], batch: number): Promise<PulledMessage[]> {
    const consumer = this.n.queue.consumer(capability, priority);
    await this.ensure(capability, priority, consumer);
    const before = this.busy.get(consumer) ?? Promise.resolve();
    const mine = before.catch(() => undefined).then(() => this.puller.pull(this.n.queue.stream, consumer, batch));
    this.busy.set(consumer, mine);
    try {
      return await mine;
    } finally {
      if (this.busy.get(consumer) === mine) this.busy.delete(consumer);
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
