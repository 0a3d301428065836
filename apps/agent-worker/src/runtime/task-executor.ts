/**
 * Runs one pulled task to an outcome and settles its message: the record moves to running
 * (compare-and-set, so a stale or duplicate delivery is recognised), the agent runs with an
 * abort signal, keep-alives and a deadline, and the outcome is written once. Failures retry
 * with backoff until the budget is spent, then go to the dead-letter stream.
 */
import { headers as natsHeaders } from '@nats-io/nats-core';
import { type DeadLetter, Headers, isTerminal, tokensOf, type QueuedTask, QueuedTaskSchema, type TaskError, type TaskRecord, toPublicTask } from '@sb/contracts';
import { type Bus, encode, type NatsClient, type PulledMessage } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import {
  isPastDeadline,
  markDeadLettered,
  markFailed,
  markRetrying,
  markRunning,
  markSucceeded,
  markTimedOut,
  publishTaskEvent,
  queuedRecord,
  toTaskEvent,
  type TaskStore,
  type Versioned,
  withProgress,
} from '@sb/tasks';
import { NonRetryableTaskError, RetryableTaskError } from '../agents/agent';
import type { AgentRegistry } from '../agents/agent-registry';
import type { AbortReason, AbortRegistry } from './abort-registry';
import type { TenantSlots } from './tenant-slots';
import { backoffMs, budgetExhausted, type RetryPolicy } from './retry-policy';
import type { WorkerMetrics } from './worker-metrics';

export interface ExecutorDeps {
  client: NatsClient;
  bus: Bus;
  store: TaskStore;
  agents: AgentRegistry;
  aborts: AbortRegistry;
  retry: RetryPolicy;
  ackWaitMs: number;
  workerId: string;
  logger: AppLogger;
  metrics: WorkerMetrics;
  /** Tenancy's concurrent-task slots; absent = not enforced (WORKER_TENANT_SLOTS=false). */
  slots?: TenantSlots;
  now?: () => Date;
}

const PROGRESS_MIN_INTERVAL_MS = 500;

export class TaskExecutor {
  private readonly now: () => Date;
  constructor(private readonly d: ExecutorDeps) {
    this.now = d.now ?? (() => new Date());
  }

  async run(msg: PulledMessage): Promise<void> {
    let task: QueuedTask;
    try {
      task = QueuedTaskSchema.parse(JSON.parse(new TextDecoder().decode(msg.data)));
    } catch (e) {
      this.d.logger.error({ err: e, subject: msg.subject }, 'unreadable task message; terminated');
      msg.term();
      return;
    }
    try {
      await this.execute(task, msg);
    } catch (e) {
      // Storage trouble mid-task: let the server redeliver later rather than lose the task.
      this.d.logger.error({ err: e, taskId: task.taskId }, 'task execution failed unexpectedly; will be redelivered');
      if (!msg.isSettled) msg.nak(backoffMs(this.d.retry, msg.info.deliveryCount));
    }
  }

  /** Hold a tenant slot (if enforced) for as long as the task runs here. */
  private async execute(task: QueuedTask, msg: PulledMessage): Promise<void> {
    const slots = this.d.slots;
    // Only tenants with a ceiling on running tasks need a slot (the gateway marks their tasks).
    if (!slots || !this.d.agents.route(task) || !msg.headers?.has(Headers.ConcurrencyLimit)) return this.executeNow(task, msg);
    const outcome = await slots.acquire(task, msg, this.d.aborts);
    if (outcome === 'stop') return;
    if (outcome === 'skip') return this.executeNow(task, msg);
    const stopRenewing = slots.keep(task);
    try {
      await this.executeNow(task, msg);
    } finally {
      stopRenewing();
      slots.release(task);
    }
  }

  private async executeNow(task: QueuedTask, msg: PulledMessage): Promise<void> {
    const attempt = msg.info.deliveryCount;
    const agent = this.d.agents.route(task);
    const started = (await this.startFast(task, msg, attempt)) ?? (await this.startFromStore(task, msg, attempt, agent !== undefined));
    if (!started) return;
    if (!agent) return; // startFromStore settled it
    this.announce(started.record, msg);
    let revision = started.revision;
    let record = started.record;

    const controller = this.d.aborts.add(task.taskId);
    const deadline = setTimeout(() => this.d.aborts.abort(task.taskId, 'timed_out'), Math.max(0, Date.parse(task.deadlineAt) - this.now().getTime()));
    const keepAlive = setInterval(() => msg.working(), Math.max(250, Math.floor(this.d.ackWaitMs / 3)));
    let writes: Promise<void> = Promise.resolve();
    let lastProgress = 0;
    const stopTimer = this.d.metrics.startTask(task.capability);
    try {
      const result = await agent.handle(task, {
        signal: controller.signal,
        deliveryCount: attempt,
        idempotencyKey: task.idempotencyKey ?? task.taskId,
        agentId: this.d.workerId,
        progress: (value) => {
          const t = Date.now();
          if (t - lastProgress < PROGRESS_MIN_INTERVAL_MS) return;
          lastProgress = t;
          writes = writes.then(async () => {
            const next = withProgress(record, value);
            const rev = next ? await this.d.store.replace(next, revision) : undefined;
            if (next && rev !== undefined) [record, revision] = [next, rev];
          }).catch(() => undefined);
        },
      });
      if (controller.signal.aborted) throw controller.signal.reason;
      await writes;
      const done = markSucceeded(record, result, this.now());
      const stored = done ? await this.storeResult(task, msg, done, revision, attempt) : 'superseded';
      if (stored === 'stored') this.announce(done!, msg);
      // 'superseded': cancelled, timed out or reclaimed meanwhile, so this result is not stored.
      stopTimer(stored === 'stored' ? 'succeeded' : stored);
      msg.ack();
    } catch (e) {
      await writes;
      await this.onFailure(task, msg, record, revision, e, controller.signal, attempt);
      stopTimer('failed');
    } finally {
      clearTimeout(deadline);
      clearInterval(keepAlive);
      this.d.aborts.remove(task.taskId);
    }
  }

  /**
   * First delivery: the record is still exactly what the gateway stored at the revision the
   * message names, so the worker moves it to running without reading it first. Any change
   * since (cancelled, expired) makes the compare-and-set fail and the careful path decides.
   */
  private async startFast(task: QueuedTask, msg: PulledMessage, attempt: number): Promise<Versioned | undefined> {
    const revision = Number(msg.headers?.get(Headers.RecordRevision));
    if (attempt !== 1 || !(revision > 0) || !this.d.agents.route(task)) return undefined;
    const now = this.now();
    const queued = queuedRecord(task, msg.headers?.get(Headers.TraceParent) || undefined);
    if (isPastDeadline(queued, now)) return undefined;
    const running = markRunning(queued, this.d.workerId, attempt, now)!;
    const next = await this.d.store.replace(running, revision);
    return next === undefined ? undefined : { record: running, revision: next };
  }

  /** Read the record and decide: skip, settle, or move to running. Undefined when the message was settled here. */
  private async startFromStore(task: QueuedTask, msg: PulledMessage, attempt: number, routable: boolean): Promise<Versioned | undefined> {
    const stored = await this.d.store.get(task.tenantId, task.taskId);
    if (!stored || isTerminal(stored.record.status)) {
      msg.ack(); // cancelled, expired, or already done
      return undefined;
    }
    const now = this.now();
    if (isPastDeadline(stored.record, now)) return void (await this.settle(task, msg, (r) => markTimedOut(r, now)));
    if (attempt > this.d.retry.maxAttempts) {
      // Redelivered past the budget without a recorded failure: its workers died mid-task.
      return void (await this.deadLetter(task, msg, stored.record, taskError('WORKER.LOST', 'The worker running this task stopped responding', true, attempt, this.d.workerId, now)));
    }
    if (!routable) {
      const err = taskError('TASK.NO_AGENT', `No agent here can handle this ${task.capability} task`, false, attempt, this.d.workerId, now);
      return void (await this.settle(task, msg, (r) => markFailed(r, err, now)));
    }
    const next = markRunning(stored.record, this.d.workerId, attempt, now);
    const revision = next ? await this.d.store.replace(next, stored.revision) : undefined;
    if (next && revision !== undefined) return { record: next, revision };
    const retried = await this.d.store.transition(task.tenantId, task.taskId, (r) => markRunning(r, this.d.workerId, attempt, this.now()));
    if (retried.applied && retried.current) return retried.current;
    msg.ack();
    return undefined;
  }

  /**
   * Store the result once (compare-and-set). A result too large for a NATS message can never
   * be stored, so the task fails with a clear code instead of being retried.
   */
  private async storeResult(task: QueuedTask, msg: PulledMessage, done: TaskRecord, revision: number, attempt: number): Promise<'stored' | 'superseded' | 'failed'> {
    try {
      return (await this.d.store.replace(done, revision)) === undefined ? 'superseded' : 'stored';
    } catch (e) {
      if (!/max.?payload/i.test((e as Error)?.message ?? '')) throw e;
      const now = this.now();
      const err = taskError('TASK.RESULT_TOO_LARGE', 'The result is larger than a message can carry; return a reference to it instead', false, attempt, this.d.workerId, now);
      await this.settle(task, msg, (r) => markFailed(r, err, now));
      return 'failed';
    }
  }

  /** Tell the world the task changed: its event, and the waiting gateway (if any) when it ended. */
  private announce(r: TaskRecord, msg: PulledMessage): void {
    const tokens = r.status === 'succeeded' ? tokensOf(r.result) : 0;
    if (tokens > 0) {
      // Usage for tenancy's accounting: the agent's `result.usage.tokens`, on the final event.
      const h = natsHeaders();
      if (r.traceparent) h.set(Headers.TraceParent, r.traceparent);
      this.d.bus.publish(this.d.bus.names.tasks.event(r.tenantId, r.taskId, r.status), { ...toTaskEvent(r, this.now()), tokens }, h);
    } else {
      publishTaskEvent(this.d.bus, r, this.now());
    }
    const notify = msg.headers?.get(Headers.Notify);
    if (notify && isTerminal(r.status)) this.d.bus.publish(notify, toPublicTask(r));
  }

  private async onFailure(task: QueuedTask, msg: PulledMessage, record: TaskRecord, revision: number, e: unknown, signal: AbortSignal, attempt: number): Promise<void> {
    const now = this.now();
    if (signal.aborted) {
      const reason = signal.reason as AbortReason;
      if (reason === 'shutdown') return msg.nak(0); // another worker takes it at once
      if (reason === 'timed_out') return this.settle(task, msg, (r) => markTimedOut(r, now));
      return msg.ack(); // cancelled: the gateway that cancelled it told everyone
    }
    if (e instanceof NonRetryableTaskError) {
      return this.settle(task, msg, (r) => markFailed(r, taskError(e.code, e.message, false, attempt, this.d.workerId, now), now));
    }
    const err = taskError(e instanceof RetryableTaskError ? e.code : 'AGENT.ERROR', messageOf(e), true, attempt, this.d.workerId, now);
    if (budgetExhausted(this.d.retry, attempt)) return this.deadLetter(task, msg, record, err);
    const next = markRetrying(record, err);
    if (next && (await this.d.store.replace(next, revision)) !== undefined) publishTaskEvent(this.d.bus, next, now);
    msg.nak(backoffMs(this.d.retry, attempt));
  }

  private async deadLetter(task: QueuedTask, msg: PulledMessage, record: TaskRecord, err: TaskError): Promise<void> {
    const entry: DeadLetter = { task, errors: [...record.errors, err], deadLetteredAt: this.now().toISOString() };
    await this.d.client.js.publish(this.d.client.names.deadLetters.subject(task.capability), encode(entry), { msgID: `dlq-${task.taskId}` });
    await this.settle(task, msg, (r) => markDeadLettered(r, err, this.now()));
  }

  /** Apply a final transition (if still allowed), announce it, and acknowledge the message. */
  private async settle(task: QueuedTask, msg: PulledMessage, change: (r: TaskRecord) => TaskRecord | undefined): Promise<void> {
    const { applied, current } = await this.d.store.transition(task.tenantId, task.taskId, change);
    if (applied && current) this.announce(current.record, msg);
    msg.ack();
  }
}

function taskError(code: string, message: string, retryable: boolean, attempt: number, agentId: string, at: Date): TaskError {
  return { code, message: message.slice(0, 2000), retryable, attempt, agentId, at: at.toISOString() };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : typeof e === 'string' ? e : 'agent failed';
}
