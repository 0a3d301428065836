/**
 * Takes work for this worker's capabilities, highest priority first, never more than its
 * free slots. Idle, it waits for an enqueue hint or the idle poll (redeliveries after a
 * backoff arrive without a hint), so an empty queue costs no busy loop. A consumer that
 * answered "no messages" is skipped until a hint names it or the idle poll comes round, so a
 * hint for `normal` costs one pull, not a pull of `high` first.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { type Names, PRIORITIES } from '@sb/contracts';
import { NoWaitPuller, type PulledMessage } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';

export interface PullerOptions {
  capabilities: string[];
  concurrency: number;
  idlePollMs: number;
  /** Circuit breakers: how many tasks of a capability may be taken now (breaker-gate.ts). */
  gate?: { allow(capability: string, want: number): number; took(capability: string, n: number): void };
}

export class TaskPuller {
  private inFlight = 0;
  private running = false;
  private hinted = false;
  private wake?: () => void;
  private readonly subs: Subscription[] = [];
  private loopDone: Promise<void> = Promise.resolve();
  private rotation = 0;
  private readonly idleWaiters: Array<() => void> = [];
  /** `<capability>.<priority>` of consumers last seen empty. */
  private readonly empty = new Set<string>();
  private readonly puller: NoWaitPuller;
  /** Hints seen per consumer, so a hint that lands during a pull isn't overwritten by that pull's "empty". */
  private readonly hints = new Map<string, number>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: Names,
    private readonly opts: PullerOptions,
    private readonly run: (msg: PulledMessage) => Promise<void>,
    private readonly logger: AppLogger,
  ) {
    this.puller = new NoWaitPuller(nc);
  }

  start(): void {
    this.running = true;
    for (const c of this.opts.capabilities) {
      this.subs.push(
        this.nc.subscribe(this.names.internal.taskReadyAny(c), {
          callback: (_e, msg) => {
            const key = `${c}.${msg.subject.slice(msg.subject.lastIndexOf('.') + 1)}`;
            this.empty.delete(key);
            this.hints.set(key, (this.hints.get(key) ?? 0) + 1);
            this.poke();
          },
        }),
      );
    }
    this.loopDone = this.loop();
  }

  /** Look for work now (a breaker closed or went half-open). */
  wakeUp(): void {
    this.poke();
  }

  get busy(): number {
    return this.inFlight;
  }

  /** Stop taking work, then wait for running tasks up to `graceMs`. Resolves true if all finished. */
  async stop(graceMs: number): Promise<boolean> {
    this.running = false;
    for (const s of this.subs) s.unsubscribe();
    this.poke();
    await this.loopDone;
    this.puller.close();
    if (this.inFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)));
    const ok = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    return ok;
  }

  private poke(): void {
    this.hinted = true;
    this.wake?.();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const free = this.opts.concurrency - this.inFlight;
      if (free <= 0) {
        await this.pause(Number.POSITIVE_INFINITY);
        continue;
      }
      this.hinted = false;
      let msgs: PulledMessage[] = [];
      try {
        msgs = await this.take(free);
      } catch (e) {
        this.logger.warn({ err: e }, 'pull failed; retrying');
        await this.pause(this.opts.idlePollMs);
        continue;
      }
      for (const m of msgs) this.dispatch(m);
      if (msgs.length === 0 && !this.hinted) {
        await this.pause(this.opts.idlePollMs);
        if (!this.hinted) this.empty.clear(); // the idle poll looks everywhere again
      }
    }
  }

  /** Up to `free` messages: all of `high` first, then `normal`, then `low`; capabilities rotate for fairness. */
  private async take(free: number): Promise<PulledMessage[]> {
    const caps = this.opts.capabilities;
    const start = this.rotation++ % caps.length;
    const out: PulledMessage[] = [];
    for (const p of PRIORITIES) {
      for (let i = 0; i < caps.length && out.length < free; i++) {
        const c = caps[(start + i) % caps.length];
        const key = `${c}.${p}`;
        if (this.empty.has(key)) continue;
        const want = this.opts.gate ? this.opts.gate.allow(c, free - out.length) : free - out.length;
        if (want <= 0) continue;
        const seen = this.hints.get(key);
        const got = await this.puller.pull(this.names.queue.stream, this.names.queue.consumer(c, p), want);
        const drained = got.length < want || got[got.length - 1].info.pending === 0;
        if (drained && this.hints.get(key) === seen) this.empty.add(key);
        this.opts.gate?.took(c, got.length);
        out.push(...got);
      }
      if (out.length > 0) return out; // don't dip into a lower priority while a higher one had work
    }
    return out;
  }

  private dispatch(m: PulledMessage): void {
    this.inFlight++;
    this.run(m)
      .catch((e: unknown) => this.logger.error({ err: e }, 'task runner failed'))
      .finally(() => {
        this.inFlight--;
        this.wake?.();
        if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
  }

  /** Wait for a hint, a freed slot, or `ms`. */
  private pause(ms: number): Promise<void> {
    if (this.hinted && this.inFlight < this.opts.concurrency) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }
}
