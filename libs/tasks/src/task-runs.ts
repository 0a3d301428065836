/**
 * Starting a delivery of a queued task: whether it runs at all (cancelled, expired, done, past its
 * budget, no agent here, a duplicate copy) and, when it does, its record moved to `running` under
 * a new lease. The run itself is task-run.ts.
 */
import { Headers, isTerminal, type QueuedTask, taskMaxDeliver, type TaskRecord } from '@sb/contracts';
import { deadLetter, type Delivery, type RunDeps, settleWith, type Started, taskError } from './run-deps';
import { TaskRun } from './task-run';
import type { Versioned } from './task-store';
import { isPastDeadline, markFailed, markRunning, markTimedOut, queuedRecord } from './transitions';

/** Starts deliveries: decides whether this one runs, and moves its record to running under a new lease. */
export class TaskRuns {
  constructor(private readonly d: RunDeps) {}

  /**
   * The run for this delivery, or undefined when it must not run (cancelled, expired, already
   * done, a duplicate copy, past its budget, no agent here): then the delivery is settled here.
   */
  async start(task: QueuedTask, msg: Delivery, routable: boolean): Promise<TaskRun | undefined> {
    const attempt = msg.info.deliveryCount;
    const reclaimedAt = attempt === 1 ? Number(msg.headers?.get(Headers.Reclaimed)) : 0;
    const started: Started | undefined =
      reclaimedAt > 0 && routable
        ? await this.startReclaimCopy(task, msg, attempt, reclaimedAt)
        : ((await this.startFast(task, msg, attempt, routable)) ?? (await this.startFromStore(task, msg, attempt, routable)));
    if (!started) return undefined;
    const run = new TaskRun(this.d, task, msg, started);
    // Deferred or not, the change is announced now (the deferred write does not announce it again).
    this.d.announcer.changed(started.record);
    return run;
  }

  /**
   * First delivery: the record is still exactly what the gateway stored at the revision the
   * message names, so it moves to running without being read. Any change since (cancelled,
   * expired) makes the compare-and-set fail and the careful path decides.
   */
  private async startFast(task: QueuedTask, msg: Delivery, attempt: number, routable: boolean): Promise<Started | undefined> {
    const revision = Number(msg.headers?.get(Headers.RecordRevision));
    if (attempt !== 1 || !(revision > 0) || !routable) return undefined;
    const now = this.d.now();
    const queued = queuedRecord(task, msg.headers?.get(Headers.TraceParent) || undefined);
    if (isPastDeadline(queued, now)) return undefined;
    const running = markRunning(queued, this.d.workerId, attempt, now)!;
    // Deferred: the outcome's compare-and-set on the queued revision fences it the same way (a
    // cancel, a timeout or another start moves the revision on, and this run's writes then lose).
    if (this.d.recordRunningAfterMs) return { record: running, revision, recorded: false };
    const next = await this.d.store.replace(running, revision);
    return next === undefined ? undefined : { record: running, revision: next };
  }

  /**
   * A copy recovery republished for a task its dead holder kept: it runs only if the record is
   * still exactly where recovery left it; otherwise another copy has it (or it ended).
   */
  private async startReclaimCopy(task: QueuedTask, msg: Delivery, attempt: number, revision: number): Promise<Versioned | undefined> {
    const cur = await this.d.store.get(task.tenantId, task.taskId);
    const next = cur && cur.revision === revision ? markRunning(cur.record, this.d.workerId, attempt, this.d.now()) : undefined;
    const rev = next ? await this.d.store.replace(next, revision) : undefined;
    if (next && rev !== undefined) return { record: next, revision: rev };
    msg.ack();
    return undefined;
  }

  /** Read the record and decide: skip, settle, or move to running. */
  private async startFromStore(task: QueuedTask, msg: Delivery, delivery: number, routable: boolean): Promise<Versioned | undefined> {
    const stored = await this.d.store.get(task.tenantId, task.taskId);
    if (!stored || isTerminal(stored.record.status)) {
      msg.ack(); // cancelled, expired, or already done
      return undefined;
    }
    const now = this.d.now();
    const settle = (change: (r: TaskRecord) => TaskRecord | undefined) => settleWith(this.d, task, msg, change);
    if (isPastDeadline(stored.record, now)) return void (await settle((r) => markTimedOut(r, now)));
    const attempt = attemptOf(stored.record, delivery);
    if (attempt > this.d.retry.maxAttempts) {
      // Redelivered past the budget without a recorded failure: its workers died mid-task.
      const err = taskError(this.d, 'WORKER.LOST', 'The worker running this task stopped responding', true, attempt, 'worker_lost');
      return void (await deadLetter(this.d, task, msg, stored.record, err));
    }
    if (delivery >= taskMaxDeliver(this.d.retry.maxAttempts)) {
      // The server's last delivery (max_deliver): no later one would come to start it.
      const err = taskError(this.d, 'TASK.UNDELIVERED', `The task could not be started in ${delivery} deliveries`, true, attempt, 'dependency');
      return void (await deadLetter(this.d, task, msg, stored.record, err));
    }
    if (!routable) {
      const err = taskError(this.d, 'TASK.NO_AGENT', `No agent here can handle this ${task.capability} task`, false, attempt);
      return void (await settle((r) => markFailed(r, err, now)));
    }
    const next = markRunning(stored.record, this.d.workerId, attempt, now, delivery);
    const revision = next ? await this.d.store.replace(next, stored.revision) : undefined;
    if (next && revision !== undefined) return { record: next, revision };
    const rerun = (r: TaskRecord) => markRunning(r, this.d.workerId, attemptOf(r, delivery), this.d.now(), delivery);
    const retried = await this.d.store.transition(task.tenantId, task.taskId, rerun);
    if (retried.applied && retried.current) return retried.current;
    msg.ack();
    return undefined;
  }
}

/**
 * The attempt a delivery starts. A record back in `queued` holds one error per attempt that ran,
 * so deliveries that never reached an agent (a start that failed on storage trouble, as while
 * NATS elects a stream leader) do not spend the task's budget. A `running` one was left by an
 * attempt that never reported (its worker died): then every delivery counts.
 */
function attemptOf(r: TaskRecord, delivery: number): number {
  return r.status === 'queued' ? Math.min(delivery, r.errors.length + 1) : delivery;
}
