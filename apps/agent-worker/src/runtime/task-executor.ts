/**
 * Runs one pulled task to an outcome and settles its message: the record moves to running
 * (compare-and-set, so a stale or duplicate delivery is recognised), the agent runs with an
 * abort signal, keep-alives and a deadline, and the outcome is written once. Failures retry
 * with backoff until the budget is spent, then go to the dead-letter stream.
 */
import { type DeadLetter, isTerminal, type QueuedTask, QueuedTaskSchema, type TaskError, type TaskRecord } from '@sb/contracts';
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
  type TaskStore,
  withProgress,
} from '@sb/tasks';
import { NonRetryableTaskError, RetryableTaskError } from '../agents/agent';
import type { AgentRegistry } from '../agents/agent-registry';
import type { AbortReason, AbortRegistry } from './abort-registry';
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

  private async execute(task: QueuedTask, msg: PulledMessage): Promise<void> {
    const attempt = msg.info.deliveryCount;
    const { store } = this.d;
    const stored = await store.get(task.tenantId, task.taskId);
    if (!stored || isTerminal(stored.record.status)) return msg.ack(); // cancelled, expired, or already done
    if (isPastDeadline(stored.record, this.now())) return this.settle(task, msg, (r) => markTimedOut(r, this.now()));
    if (attempt > this.d.retry.maxAttempts) {
      // Redelivered past the budget without a recorded failure: its workers died mid-task.
      return this.deadLetter(task, msg, stored.record, taskError('WORKER.LOST', 'The worker running this task stopped responding', true, attempt, this.d.workerId, this.now()));
    }
    const agent = this.d.agents.route(task);
    if (!agent) return this.settle(task, msg, (r) => markFailed(r, taskError('TASK.NO_AGENT', `No agent here can handle this ${task.capability} task`, false, attempt, this.d.workerId, this.now()), this.now()));

    const started = await store.transition(task.tenantId, task.taskId, (r) => markRunning(r, this.d.workerId, attempt, this.now()));
    if (!started.applied || !started.current) return msg.ack();
    publishTaskEvent(this.d.bus, started.current.record, this.now());
    let revision = started.current.revision;
    let record = started.current.record;

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
            const rev = next ? await store.replace(next, revision) : undefined;
            if (next && rev !== undefined) [record, revision] = [next, rev];
          }).catch(() => undefined);
        },
      });
      if (controller.signal.aborted) throw controller.signal.reason;
      await writes;
      const done = markSucceeded(record, result, this.now());
      if (done && (await store.replace(done, revision)) !== undefined) {
        publishTaskEvent(this.d.bus, done, this.now());
        stopTimer('succeeded');
      } else {
        stopTimer('superseded'); // cancelled, timed out or reclaimed meanwhile: this result is not stored
      }
      await msg.ack();
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

  private async onFailure(task: QueuedTask, msg: PulledMessage, record: TaskRecord, revision: number, e: unknown, signal: AbortSignal, attempt: number): Promise<void> {
    const now = this.now();
    if (signal.aborted) {
      const reason = signal.reason as AbortReason;
      if (reason === 'shutdown') return msg.nak(0); // another worker takes it at once
      if (reason === 'timed_out') return this.settle(task, msg, (r) => markTimedOut(r, now));
      return msg.ack(); // cancelled: the record already says so
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
    if (applied && current) publishTaskEvent(this.d.bus, current.record, this.now());
    await msg.ack();
  }
}

function taskError(code: string, message: string, retryable: boolean, attempt: number, agentId: string, at: Date): TaskError {
  return { code, message: message.slice(0, 2000), retryable, attempt, agentId, at: at.toISOString() };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : typeof e === 'string' ? e : 'agent failed';
}
