/**
 * The worker's side of a task's life: one delivery of a queued task, started under a lease
 * `{agentId, epoch}` in the record, kept alive, reporting progress, and ending once (complete,
 * fail, retry with backoff, dead-letter, time out, hand back). Every write is a compare-and-set
 * on the record, checked against the lease, so a zombie (reclaimed while paused) can neither
 * store a result nor ack the copy another worker now runs. The delivery is acked, nak'd or
 * terminated here and nowhere else.
 */
import { type DeadLetter, type ErrorClass, Headers, isTerminal, type QueuedTask, type TaskError, taskMaxDeliver, type TaskRecord } from '@sb/contracts';
import { backoffMs, budgetExhausted, type RetryPolicy } from '@sb/messaging';
import type { MsgHdrs } from '@nats-io/nats-core';
import type { TaskAnnouncer } from './task-announcer';
import type { TaskQueue } from './task-queue';
import { isStorageTrouble, type TaskStore, type Versioned } from './task-store';
import { holdsLease, isPastDeadline, markDeadLettered, markFailed, markRetrying, markRunning, markSucceeded, markTimedOut, queuedRecord, withProgress } from './transitions';

/** A queued task's message as the worker holds it (libs/messaging's PulledMessage). */
export interface Delivery {
  readonly headers?: MsgHdrs;
  readonly info: { deliveryCount: number };
  readonly isSettled: boolean;
  ack(): void;
  nak(delayMs?: number): void;
  term(): void;
  working(): void;
}

export interface RunDeps {
  store: TaskStore;
  queue: TaskQueue;
  announcer: TaskAnnouncer;
  retry: RetryPolicy;
  workerId: string;
  now: () => Date;
  /** A reclaimed task's late result, dropped. */
  onSuperseded?: (taskId: string, lease: TaskRecord['lease'], holder: TaskRecord['lease']) => void;
  /**
   * A first delivery's `running` record is written only once the run has lasted this long, or at
   * its first progress or failure; a task that finishes sooner goes from `queued` straight to its
   * outcome in one write (its outcome record still names the lease, agent and start time). Its
   * `running` event goes out at the start either way: every state change has its event, and the
   * record catches up within this long. 0 or absent: written before the agent gets the task.
   */
  recordRunningAfterMs?: number;
  /**
   * The deferred running record lost its compare-and-set: the task was cancelled or timed out
   * while queued (`ended`), or another delivery of it started. The run must end: nothing it
   * reports can be stored.
   */
  onRunningRecordLost?: (taskId: string, ended: boolean) => void;
}

/** What the worker reports when an attempt fails. */
export interface Failure {
  code: string;
  message: string;
  class?: ErrorClass;
  /** At least this long before the next attempt (a provider's Retry-After). */
  minDelayMs?: number;
}

export type Completion = 'stored' | 'superseded' | 'failed';

/** A started delivery's record: `recorded` false when the running record is not written yet (the revision is still the queued one). */
type Started = Versioned & { recorded?: boolean };

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

const PROGRESS_MIN_INTERVAL_MS = 500;
/** How long a run's outcome write is retried through storage trouble (a stream leader election takes seconds). */
export const OUTCOME_WRITE_RETRY_MS = 15_000;

/** The stored record is this outcome, written under the same lease (a write whose reply was lost). */
function isSameOutcome(stored: TaskRecord, next: TaskRecord): boolean {
  const sameLease = stored.lease?.epoch === next.lease?.epoch;
  return sameLease && stored.status === next.status && stored.finishedAt === next.finishedAt && stored.errors.length === next.errors.length;
}

/** One started delivery: the record as this worker last wrote it, and the lease it runs under. */
export class TaskRun {
  readonly lease: TaskRecord['lease'];
  readonly attempt: number;
  private record: TaskRecord;
  private revision: number;
  private writes: Promise<void> = Promise.resolve();
  private lastProgress = 0;
  /** False while the running record is deferred (RunDeps.recordRunningAfterMs). */
  private recorded: boolean;
  private recordTimer?: NodeJS.Timeout;

  constructor(
    private readonly d: RunDeps,
    readonly task: QueuedTask,
    private readonly msg: Delivery,
    started: Started,
  ) {
    this.record = started.record;
    this.revision = started.revision;
    this.lease = started.record.lease;
    this.attempt = started.record.attempts || msg.info.deliveryCount;
    this.recorded = started.recorded !== false;
    if (!this.recorded) {
      this.recordTimer = setTimeout(() => {
        this.writes = this.writes.then(() => this.writeRunning()).then(
          () => undefined,
          () => undefined,
        );
      }, d.recordRunningAfterMs);
      this.recordTimer.unref?.();
    }
  }

  /**
   * The deferred running record, now (its event went out at the start). False when the task moved on meanwhile
   * (cancelled, timed out, started elsewhere): nothing is written, and this run's outcome will lose its compare-and-set too.
   */
  private async writeRunning(): Promise<boolean> {
    clearTimeout(this.recordTimer);
    if (this.recorded) return true;
    this.recorded = true;
    const rev = await this.d.store.replace(this.record, this.revision);
    if (rev === undefined) {
      const cur = await this.d.store.get(this.task.tenantId, this.task.taskId).catch(() => undefined);
      this.d.onRunningRecordLost?.(this.task.taskId, !cur || isTerminal(cur.record.status));
      return false;
    }
    this.revision = rev;
    return true;
  }

  /** No deferred running record any more: the run ends without it (its outcome, or back to the queue). */
  private skipRunningRecord(): void {
    clearTimeout(this.recordTimer);
    this.recorded = true;
  }

  /** Progress, at most every half second, written in order behind each other (after the running record). */
  progress(value: unknown): void {
    const t = Date.now();
    if (t - this.lastProgress < PROGRESS_MIN_INTERVAL_MS) return;
    this.lastProgress = t;
    this.writes = this.writes
      .then(async () => {
        if (!(await this.writeRunning())) return;
        const next = withProgress(this.record, value);
        const rev = next ? await this.d.store.replace(next, this.revision) : undefined;
        if (next && rev !== undefined) {
          [this.record, this.revision] = [next, rev];
          this.d.announcer.progressed(next);
        }
      })
      .catch(() => undefined);
  }

  /**
   * Store the result once. 'superseded': cancelled, timed out or reclaimed meanwhile, so it is not
   * stored (and the message is acked only if the task ended or is still ours). A result too large
   * for a message can never be stored: the task fails with TASK.RESULT_TOO_LARGE.
   */
  async complete(result: unknown): Promise<Completion> {
    clearTimeout(this.recordTimer);
    await this.writes;
    // Not recorded yet: the outcome is written from the queued revision, in one write.
    this.recorded = true;
    const done = markSucceeded(this.record, result, this.d.now());
    let outcome: Completion = 'superseded';
    try {
      if (done && (await this.writeOutcome(done)) !== undefined) outcome = 'stored';
    } catch (e) {
      if (!/max.?payload/i.test((e as Error)?.message ?? '')) throw e;
      const err = taskError(this.d, 'TASK.RESULT_TOO_LARGE', 'The result is larger than a message can carry; return a reference to it instead', false, this.attempt, 'agent_error');
      await this.settle((r) => markFailed(r, err, this.d.now()));
      return 'failed';
    }
    if (outcome === 'stored') {
      this.d.announcer.changed(done!, this.notify);
      this.msg.ack();
    } else await this.settleSuperseded();
    return outcome;
  }

  /** A failure that can never succeed: the task ends failed. */
  async fail(f: Failure): Promise<void> {
    await this.settled();
    const err = taskError(this.d, f.code, f.message, false, this.attempt, f.class);
    await this.settle((r) => markFailed(r, err, this.d.now()));
  }

  /** A failure worth another attempt: back to queued with backoff, or dead-lettered when the budget is spent. */
  async retry(f: Failure): Promise<void> {
    await this.settled();
    const err = taskError(this.d, f.code, f.message, true, this.attempt, f.class);
    if (budgetExhausted(this.d.retry, this.attempt)) return deadLetter(this.d, this.task, this.msg, this.record, err);
    const next = markRetrying(this.record, err);
    if (next && (await this.writeOutcome(next)) !== undefined) this.d.announcer.changed(next);
    this.msg.nak(retryDelayMs(backoffMs(this.d.retry, this.attempt), f.minDelayMs, this.d.retry.maxMs));
  }

  /** The task's deadline passed while it ran. */
  async timeOut(): Promise<void> {
    await this.settled();
    const now = this.d.now();
    await this.settle((r) => markTimedOut(r, now));
  }

  /** Cancelled by its owner: the gateway that cancelled it told everyone; only the message is left. */
  cancelled(): void {
    this.skipRunningRecord();
    this.msg.ack();
  }

  /** This worker stops (shutdown): another worker takes the task at once. */
  handBack(): void {
    this.skipRunningRecord();
    this.msg.nak(0);
  }

  /** True when the task no longer runs under this lease (reclaimed): then it is neither settled nor retried. */
  async lost(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted && signal.reason === 'lost_lease') return true;
    if (signal?.aborted && signal.reason !== 'timed_out') return false;
    await this.settled().catch(() => undefined);
    const cur = await this.d.store.get(this.task.tenantId, this.task.taskId).catch(() => undefined);
    return !!cur && !isTerminal(cur.record.status) && !holdsLease(cur.record, this.lease);
  }

  /** The periodic keep-alive: extends the message only while the record still names this lease. False when the lease is lost. */
  async keepAlive(): Promise<boolean> {
    await this.settled().catch(() => undefined);
    const cur = await this.d.store.get(this.task.tenantId, this.task.taskId).catch(() => undefined);
    if (cur && !holdsLease(cur.record, this.lease) && !isTerminal(cur.record.status)) return false;
    this.msg.working();
    return true;
  }

  /**
   * `next` written over this run's revision; undefined when the task moved on (compare-and-set
   * lost). Storage trouble (a NATS stream leader election) is retried for up to
   * OUTCOME_WRITE_RETRY_MS with the message kept in progress, rather than leaving the outcome to
   * the message's redelivery, which would run the task again. A write that timed out may have
   * landed: when a later one then loses its compare-and-set, the record counts as written if it
   * holds this very outcome.
   */
  private async writeOutcome(next: TaskRecord): Promise<number | undefined> {
    const giveUpAt = Date.now() + OUTCOME_WRITE_RETRY_MS;
    let uncertain = false;
    for (let attempt = 1; ; attempt++) {
      try {
        const rev = await this.d.store.replace(next, this.revision);
        if (rev !== undefined || !uncertain) return rev;
        const cur = await this.d.store.get(next.tenantId, next.taskId);
        return cur && isSameOutcome(cur.record, next) ? cur.revision : undefined;
      } catch (e) {
        if (!isStorageTrouble(e) || Date.now() >= giveUpAt) throw e;
        uncertain = true;
        this.msg.working();
        await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** (attempt - 1), 2_000)));
      }
    }
  }

  /** Ack a superseded result only if the task ended or is still ours; with work-queue retention an ack would delete another worker's copy. */
  private async settleSuperseded(): Promise<void> {
    const cur = await this.d.store.get(this.task.tenantId, this.task.taskId);
    if (!cur || isTerminal(cur.record.status) || holdsLease(cur.record, this.lease)) return this.msg.ack();
    this.d.onSuperseded?.(this.task.taskId, this.lease, cur.record.lease);
  }

  /** Writes in flight done, and the running record written: a failure's history names its attempt, agent and start. */
  private async settled(): Promise<void> {
    await this.writes;
    await this.writeRunning();
  }

  private get notify(): string | undefined {
    return this.msg.headers?.get(Headers.Notify) || undefined;
  }

  private settle(change: (r: TaskRecord) => TaskRecord | undefined): Promise<void> {
    return settleWith(this.d, this.task, this.msg, change);
  }
}

/** Apply a final transition (if still allowed), announce it, and acknowledge the message. */
async function settleWith(d: RunDeps, task: QueuedTask, msg: Delivery, change: (r: TaskRecord) => TaskRecord | undefined): Promise<void> {
  const { applied, current } = await d.store.transition(task.tenantId, task.taskId, change);
  if (applied && current) d.announcer.changed(current.record, msg.headers?.get(Headers.Notify) || undefined);
  msg.ack();
}

async function deadLetter(d: RunDeps, task: QueuedTask, msg: Delivery, record: TaskRecord, err: TaskError): Promise<void> {
  const entry: DeadLetter = { task, errors: [...record.errors, err], deadLetteredAt: d.now().toISOString() };
  await d.queue.deadLetter(entry);
  await settleWith(d, task, msg, (r) => markDeadLettered(r, err, d.now()));
}

function taskError(d: RunDeps, code: string, message: string, retryable: boolean, attempt: number, cls?: ErrorClass): TaskError {
  const err: TaskError = { code, message: message.slice(0, 2000), retryable, attempt, agentId: d.workerId, at: d.now().toISOString() };
  if (cls) err.class = cls;
  return err;
}

/** The wait before the next attempt: the backoff, or a provider's hint when longer, capped at the backoff ceiling (never below the backoff). */
export function retryDelayMs(backoff: number, hintMs: number | undefined, maxMs: number): number {
  if (!hintMs) return backoff;
  return Math.min(Math.max(backoff, maxMs), Math.max(backoff, hintMs));
}
