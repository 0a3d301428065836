/**
 * The worker's side of a task's life: one delivery of a queued task, started under a lease
 * `{agentId, epoch}` in the record, kept alive, reporting progress, and ending once (complete,
 * fail, retry with backoff, dead-letter, time out, hand back). Every write is a compare-and-set
 * on the record, checked against the lease, so a zombie (reclaimed while paused) can neither
 * store a result nor ack the copy another worker now runs. The delivery is acked, nak'd or
 * terminated here and nowhere else.
 */
import { Headers, isTerminal, type QueuedTask, type TaskRecord } from '@sb/contracts';
import { backoffMs, budgetExhausted } from '@sb/messaging';
import { type Completion, deadLetter, type Delivery, type Failure, retryDelayMs, type RunDeps, settleWith, type Started, taskError } from './run-deps';
import { isStorageTrouble } from './task-store';
import { holdsLease, markFailed, markRetrying, markSucceeded, markTimedOut, withProgress } from './transitions';

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
