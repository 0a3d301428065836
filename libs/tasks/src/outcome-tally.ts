/**
 * Finished tasks counted where they end (TaskAnnouncer.changed, in the gateway's dispatcher and
 * in recovery) and sent once a second, on the whole second, as one `Events.taskTally` message per
 * process with anything to report. The console's throughput and error charts add these up: a
 * gateway replica so receives a few messages a second rather than every task's final event.
 */
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { TaskStatus, TaskTally } from '@sb/contracts';
import type { Bus } from '@sb/messaging';

/** Distinct capability and status pairs kept per period; more are summed into the last period's next message. */
const MAX_ENTRIES = 1024;
export const TALLY_PERIOD_MS = 1_000;

export class OutcomeTally implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private counts = new Map<string, { capability: string; status: TaskStatus; n: number }>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly bus: Pick<Bus, 'publish' | 'names'>,
    private readonly periodMs = TALLY_PERIOD_MS,
  ) {}

  count(capability: string, status: TaskStatus): void {
    const key = `${capability}\u0000${status}`;
    const c = this.counts.get(key);
    if (c) c.n++;
    else if (this.counts.size < MAX_ENTRIES) this.counts.set(key, { capability, status, n: 1 });
  }

  /** What was counted since the last call (and starts over); undefined when nothing was. */
  take(): TaskTally | undefined {
    if (this.counts.size === 0) return undefined;
    const counts = [...this.counts.values()];
    this.counts = new Map();
    return { counts };
  }

  onApplicationBootstrap(): void {
    this.schedule();
  }

  /** The last period's counts go out before the connection drains. */
  beforeApplicationShutdown(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
  }

  private schedule(): void {
    // On the period's boundary (whole seconds): every process's tallies then land in the same console step.
    this.timer = setTimeout(() => {
      this.flush();
      this.schedule();
    }, this.periodMs - (Date.now() % this.periodMs));
    this.timer.unref?.();
  }

  private flush(): void {
    const tally = this.take();
    if (!tally) return;
    try {
      this.bus.publish(this.bus.names.internal.taskTally, tally);
    } catch {
      /* closed or reconnecting: these counts are lost to the console's chart, nothing else */
    }
  }
}
