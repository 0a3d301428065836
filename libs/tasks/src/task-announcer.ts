/**
 * Telling the world a task changed, in one place: the task event on
 * `<prefix>.v1.tasks.events.<tenant>.<task>.<status>` for every change (with the agent's token
 * usage on a success, for tenancy's accounting); the finished task to the gateway waiting for it
 * (TaskCompletion, when the queued message named one); and, for a task ended away from its
 * worker (cancelled, timed out), an abort to the agent running it and a word to every gateway's
 * waiters.
 */
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core';
import { Headers, isTerminal, type PublicTask, type TaskEvent, type TaskRecord, tokensOf, toPublicTask } from '@sb/contracts';
import type { Bus } from '@sb/messaging';
import type { OutcomeTally } from './outcome-tally';

export function toTaskEvent(r: TaskRecord, now: Date): TaskEvent {
  return { taskId: r.taskId, tenantId: r.tenantId, status: r.status, capability: r.capability, agentId: r.agentId ?? null, attempts: r.attempts, at: now.toISOString() };
}

export class TaskAnnouncer {
  /** This process's own completion subject and its receiver: a finished task for it is handed over in process, not sent through the server. */
  private local?: { subject: string; deliver: (task: PublicTask) => void };

  constructor(
    private readonly bus: Bus,
    private readonly now: () => Date = () => new Date(),
    /** Counts every task that ends here, for the console's charts. */
    private readonly tally?: OutcomeTally,
  ) {}

  /**
   * A gateway both dispatches tasks and waits for them: when the task it finishes was submitted
   * here too (the usual case with one gateway, or with sticky agents), the waiting request gets
   * it directly. Saves a publish, a delivery and their encoding per waited-on task.
   */
  deliverLocally(subject: string, deliver: (task: PublicTask) => void): void {
    this.local = { subject, deliver };
  }

  /** A state change: its event; when it ended and a gateway waits (`notify`), the finished task to that gateway. */
  changed(r: TaskRecord, notify?: string): void {
    const n = this.bus.names;
    const tokens = r.status === 'succeeded' ? tokensOf(r.result) : 0;
    const event = toTaskEvent(r, this.now());
    this.bus.publish(n.tasks.event(r.tenantId, r.taskId, r.status), tokens > 0 ? { ...event, tokens } : event, traceHeaders(r));
    if (!isTerminal(r.status)) return;
    this.tally?.count(r.capability, r.status);
    if (!notify) return;
    if (notify === this.local?.subject) this.local.deliver(toPublicTask(r));
    else this.bus.publish(notify, toPublicTask(r));
  }

  /** A running task's progress, on its `running` event subject (and so its SSE stream). */
  progressed(r: TaskRecord): void {
    this.bus.publish(this.bus.names.tasks.event(r.tenantId, r.taskId, 'running'), { ...toTaskEvent(r, this.now()), progress: r.progress }, traceHeaders(r));
  }

  /**
   * A task ended away from the worker running it: the agent gets an abort (a queued copy is
   * dropped when a worker takes it), waiters on every gateway hear of it, and the event goes out.
   */
  endedElsewhere(r: TaskRecord): void {
    const n = this.bus.names;
    this.bus.publish(n.internal.taskAbort(r.taskId), undefined);
    this.bus.publish(n.internal.taskEnded, { tenantId: r.tenantId, taskId: r.taskId });
    this.changed(r);
  }
}

function traceHeaders(r: TaskRecord): MsgHdrs | undefined {
  if (!r.traceparent) return undefined;
  const h = natsHeaders();
  h.set(Headers.TraceParent, r.traceparent);
  return h;
}
