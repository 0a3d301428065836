/**
 * One SSE client's stream of task events: frames events as `text/event-stream`, keeps the
 * connection alive with comment lines, and never buffers without bound — while the client's
 * socket is backed up, events are dropped and counted, and the client is told how many it
 * missed once it drains (so it can re-read state with GET /v1/tasks/:id).
 */
import type { TaskEvent, TaskStatus } from '@sb/contracts';

export interface SseSink {
  /** false = the socket buffer is full; stop writing until `onDrain`. */
  write(chunk: string): boolean;
  onDrain(cb: () => void): void;
  end(): void;
}

export interface EventFilter {
  statuses?: ReadonlySet<TaskStatus>;
  capability?: string;
  taskId?: string;
}

export interface Timers {
  setInterval(cb: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export class TaskEventStream {
  private nextId = 1;
  private missed = 0;
  private blocked = false;
  private closed = false;
  private readonly keepAlive: unknown;

  constructor(
    private readonly sink: SseSink,
    private readonly filter: EventFilter,
    private readonly timers: Timers,
    keepAliveMs: number,
  ) {
    sink.onDrain(() => this.drained());
    this.sink.write('retry: 2000\n: connected\n\n');
    this.keepAlive = timers.setInterval(() => this.send(': keep-alive\n\n'), keepAliveMs);
  }

  /** Returns whether the event was written (false: filtered out, dropped, or closed). */
  push(event: TaskEvent): boolean {
    if (this.closed || !this.matches(event)) return false;
    if (this.blocked) {
      this.missed++;
      return false;
    }
    return this.send(`id: ${this.nextId++}\nevent: task\ndata: ${JSON.stringify(event)}\n\n`);
  }

  get droppedCount(): number {
    return this.missed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timers.clearInterval(this.keepAlive);
    this.sink.end();
  }

  private matches(e: TaskEvent): boolean {
    const f = this.filter;
    if (f.taskId !== undefined && e.taskId !== f.taskId) return false;
    if (f.capability !== undefined && e.capability !== f.capability) return false;
    return f.statuses === undefined || f.statuses.has(e.status);
  }

  private send(frame: string): boolean {
    if (this.closed || this.blocked) return false;
    if (!this.sink.write(frame)) this.blocked = true;
    return true;
  }

  private drained(): void {
    this.blocked = false;
    if (this.missed > 0) {
      const n = this.missed;
      this.missed = 0;
      this.send(`event: overflow\ndata: ${JSON.stringify({ missed: n })}\n\n`);
    }
  }
}
