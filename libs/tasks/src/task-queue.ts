/**
 * The work queue, written in one place: a queued task is a JetStream message on
 * `<prefix>.q.<capability>.<priority>` carrying the task, with headers that tell a worker how to
 * start it (the record revision for a start without a read, a reclaim copy's revision, the
 * tenant's running-task ceiling, the waiting gateway) and a dedupe id. Dead letters go to their
 * own stream. Nothing else in the codebase publishes either.
 */
import { headers as natsHeaders } from '@nats-io/nats-core';
import { type DeadLetter, Headers, type Names, type Priority, type QueuedTask, type TaskReadyHint, type TaskRecord } from '@sb/contracts';
import { encode, type NatsClient } from '@sb/messaging';

export interface EnqueueOptions {
  /** Dedupe id for JetStream (`Nats-Msg-Id`); the task id for a first submit. */
  msgId: string;
  traceparent?: string;
  /** The record's KV revision when queued: the worker moves it to running without reading it. */
  recordRevision?: number;
  /** A copy recovery republished: it may only start from this record revision. */
  reclaimedFromRevision?: number;
  /** The completion subject of the gateway waiting for the outcome (see TaskCompletion in the contract). */
  notify?: string;
  /** The tenant's ceiling on running tasks; absent or null = unlimited (workers then need no slot). */
  maxConcurrent?: number | null;
}

/** This process's own takes, woken in process when it queues work (the dispatcher's TaskSource.hinted). */
export type LocalWake = (capability: string, priority: Priority) => void;

export class TaskQueue {
  private readonly n: Names;
  /** Hint subjects to publish at the end of this event-loop turn (one per capability and priority, however many were queued). */
  private readonly hints = new Set<string>();
  /** The hint's body: who sent it, so the sender's own dispatcher, already woken in process, skips its echo. */
  private readonly hintBody: Uint8Array;
  private localWake?: LocalWake;

  constructor(private readonly client: Pick<NatsClient, 'jsPublish' | 'nc' | 'names' | 'self'>) {
    this.n = client.names;
    this.hintBody = encode({ from: client.self.instanceId } satisfies TaskReadyHint);
  }

  /**
   * A dispatcher in this process: woken at once when work is queued here (no round trip through
   * the server for the hint; the other processes still get it, and this one skips its echo).
   */
  wakeLocally(wake: LocalWake): void {
    this.localWake = wake;
  }

  async enqueue(task: QueuedTask, o: EnqueueOptions): Promise<void> {
    const h = natsHeaders();
    h.set(Headers.TaskId, task.taskId);
    h.set(Headers.TenantId, task.tenantId);
    if (o.traceparent) h.set(Headers.TraceParent, o.traceparent);
    if (o.recordRevision !== undefined) h.set(Headers.RecordRevision, String(o.recordRevision));
    if (o.reclaimedFromRevision !== undefined) h.set(Headers.Reclaimed, String(o.reclaimedFromRevision));
    if (o.notify) h.set(Headers.Notify, o.notify);
    if (typeof o.maxConcurrent === 'number') h.set(Headers.ConcurrencyLimit, String(o.maxConcurrent));
    await this.client.jsPublish(this.n.queue.subject(task.capability, task.priority), encode(task), { msgID: o.msgId, headers: h });
    this.hint(this.n.internal.taskReady(task.capability, task.priority));
    this.localWake?.(task.capability, task.priority);
  }

  /**
   * A hint for the takes waiting for work; they also poll, so a lost hint only delays. One per
   * capability and priority per event-loop turn: a busy gateway queues dozens of tasks in a turn,
   * and every dispatcher needs to hear only that there is work.
   */
  private hint(subject: string): void {
    if (this.hints.size === 0) setImmediate(() => this.flushHints());
    this.hints.add(subject);
  }

  private flushHints(): void {
    for (const subject of this.hints) {
      try {
        this.client.nc.publish(subject, this.hintBody);
      } catch {
        /* closed or reconnecting: the takes' own poll finds the work */
      }
    }
    this.hints.clear();
  }

  /** Dead letters are deduplicated per attempt cycle: a redriven task can dead-letter again. */
  async deadLetter(entry: DeadLetter): Promise<void> {
    const t = entry.task;
    await this.client.jsPublish(this.n.deadLetters.subject(t.capability), encode(entry), { msgID: `dlq-${t.taskId}-${Date.parse(t.deadlineAt)}` });
  }
}

/** The queued form of a record (what a reclaim copy or a redrive puts back on the queue). */
export function queuedTaskOf(r: TaskRecord): QueuedTask {
  const task: QueuedTask = {
    taskId: r.taskId,
    tenantId: r.tenantId,
    capability: r.capability,
    priority: r.priority,
    input: r.input,
    metadata: r.metadata,
    timeoutMs: r.timeoutMs,
    deadlineAt: r.deadlineAt,
    createdAt: r.createdAt,
  };
  if (r.idempotencyKey) task.idempotencyKey = r.idempotencyKey;
  if (r.redrives) task.redrives = r.redrives;
  return task;
}
