/**
 * The control plane's side of a task's life, over its ports (record store, queue, announcer):
 * submit (record, queue, event, with rollback), cancel, time-out, reclaim from a dead holder,
 * and requeue (dead-letter redrive). Every record write here is a compare-and-set through the
 * state machine in transitions.ts, so a stale writer loses and an outcome is stored once.
 * The worker's side (start under a lease, keep-alive, progress, complete, fail) is task-run.ts.
 */
import type { QueuedTask, TaskRecord } from '@sb/contracts';
import { queuedTaskOf, type TaskQueue } from './task-queue';
import type { TaskAnnouncer } from './task-announcer';
import type { TaskStore, Versioned } from './task-store';
import { isPastDeadline, markCancelled, markReclaimed, markRedriven, markTimedOut, queuedRecord } from './transitions';

export interface SubmitOptions {
  traceparent?: string;
  /** The completion subject of the gateway that waits for the outcome. */
  notify?: string;
  maxConcurrent?: number | null;
}

export type Ended = { applied: boolean; current?: Versioned };

export class TaskLifecycle {
  constructor(
    readonly store: TaskStore,
    readonly queue: TaskQueue,
    readonly announcer: TaskAnnouncer,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Durable before it is answered: the record is stored, then the task queued; if queueing fails
   * the record is removed again (the caller retries with the same idempotency key). Returns the
   * queued record, whose event has gone out.
   */
  async submit(task: QueuedTask, o: SubmitOptions, rollback: () => Promise<void> = async () => undefined): Promise<TaskRecord> {
    const record = queuedRecord(task, o.traceparent);
    try {
      const revision = await this.store.create(record);
      await this.queue.enqueue(task, { msgId: task.taskId, traceparent: o.traceparent, recordRevision: revision, notify: o.notify, maxConcurrent: o.maxConcurrent });
    } catch (e) {
      await this.store.delete(record.tenantId, record.taskId).catch(() => undefined);
      await rollback().catch(() => undefined);
      throw e;
    }
    this.announcer.changed(record);
    return record;
  }

  /** Cancel a task that has not ended; `applied` false with `current` set means it already ended. */
  async cancel(tenantId: string, taskId: string): Promise<Ended> {
    const out = await this.store.transition(tenantId, taskId, (r) => markCancelled(r, this.now()));
    if (out.applied && out.current) this.announcer.endedElsewhere(out.current.record);
    return out;
  }

  /** End a task `timed_out`: at once with `atDeadline` (its caller's wait ran out), else only past its deadline. */
  async timeOut(tenantId: string, taskId: string, atDeadline: boolean): Promise<Ended> {
    const now = this.now();
    const out = await this.store.transition(tenantId, taskId, (r) => (atDeadline || isPastDeadline(r, now) ? markTimedOut(r, now) : undefined));
    if (out.applied && out.current) this.announcer.endedElsewhere(out.current.record);
    return out;
  }

  /**
   * Take a task back from a holder that died: the record goes back to queued (only if it still
   * names that holder's lease) and a copy goes on the queue that may only start from the record
   * as left here, so the dead holder's own message, if it ever comes back, is dropped.
   * Returns the new revision, or undefined when the task moved on meanwhile.
   */
  async reclaim(record: TaskRecord, revision: number): Promise<number | undefined> {
    const next = markReclaimed(record, record.lease);
    const rev = next ? await this.store.replace(next, revision) : undefined;
    if (!next || rev === undefined) return undefined;
    await this.requeueCopy(next, rev);
    return rev;
  }

  /** Put a copy of a reclaimed record back on the queue (idempotent per lease epoch). */
  async requeueCopy(r: TaskRecord, revision: number): Promise<void> {
    await this.queue.enqueue(queuedTaskOf(r), { msgId: `reclaim-${r.taskId}-${r.lease?.epoch ?? 0}`, traceparent: r.traceparent, reclaimedFromRevision: revision });
    this.announcer.changed(r);
  }

  /**
   * Queue a dead-lettered task again (redrive): its record goes dead_lettered → queued under
   * compare-and-set, or is created afresh when it has expired. `conflict` when the record is not
   * dead-lettered or another redrive won; on a queue failure the record is put back, so the
   * dead letter can be redriven again. `maxConcurrent` is the tenant's ceiling from the
   * redrive's admission: the task takes a running slot like a submitted one.
   */
  async redrive(task: QueuedTask, msgId: string, o: Pick<SubmitOptions, 'maxConcurrent'> = {}): Promise<{ record: TaskRecord } | { conflict: string }> {
    const cur = await this.store.get(task.tenantId, task.taskId);
    let record: TaskRecord;
    let revision: number | undefined;
    if (cur) {
      const next = markRedriven(cur.record, task);
      if (!next) return { conflict: `Task ${task.taskId} is ${cur.record.status}; only a dead-lettered task can be redriven` };
      record = next;
      revision = await this.store.replace(record, cur.revision);
    } else {
      record = queuedRecord(task, undefined);
      revision = await this.store.create(record).catch(() => undefined);
    }
    if (revision === undefined) return { conflict: `Task ${task.taskId} is being redriven already` };
    try {
      await this.queue.enqueue(task, { msgId, traceparent: record.traceparent, recordRevision: revision, maxConcurrent: o.maxConcurrent });
    } catch (e) {
      if (cur) await this.store.replace(cur.record, revision).catch(() => undefined);
      else await this.store.delete(task.tenantId, task.taskId).catch(() => undefined);
      throw e;
    }
    this.announcer.changed(record);
    return { record };
  }
}
