/**
 * Runs one pulled task to an outcome and settles its message: the record moves to running
 * (compare-and-set, so a stale or duplicate delivery is recognised), the agent runs with an
 * abort signal, keep-alives and a deadline, and the outcome is written once. Failures retry
 * with backoff until the budget is spent, then go to the dead-letter stream.
 */
import { headers as natsHeaders } from '@nats-io/nats-core';
import { type DeadLetter, Headers, isTerminal, SpanAttributes, SpanNames, tokensOf, type QueuedTask, QueuedTaskSchema, type TaskError, type TaskRecord, toPublicTask } from '@sb/contracts';
import { type Bus, encode, type NatsClient, type PulledMessage } from '@sb/messaging';
import { activeSpan, type AppLogger, markSpanError } from '@sb/observability';
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
import { LeaseFence } from './lease-fence';
import type { ErrorClass } from '@sb/contracts';
import { classifyFailure, rateLimitDelayMs } from './breaker-gate-classify';
import type { OutcomeSink } from './breaker-gate-outcomes';

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
  /** Attempt outcomes for the circuit breakers (breaker-gate-outcomes.ts); absent = not reported. */
  outcomes?: OutcomeSink;
  now?: () => Date;
}

const PROGRESS_MIN_INTERVAL_MS = 500;

export class TaskExecutor {
  private readonly now: () => Date;
  private readonly fence: LeaseFence;
  constructor(private readonly d: ExecutorDeps) {
    this.now = d.now ?? (() => new Date());
    this.fence = new LeaseFence(d.store, d.aborts, d.logger);
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
      await this.traced(task, msg, () => this.execute(task, msg));
    } catch (e) {
      // Storage trouble mid-task: let the server redeliver later rather than lose the task.
      this.d.logger.error({ err: e, taskId: task.taskId }, 'task execution failed unexpectedly; will be redelivered');
      if (!msg.isSettled) msg.nak(backoffMs(this.d.retry, msg.info.deliveryCount));
    }
  }

  /** One run span per delivery, a child of the submit span the queued message carries. */
  private traced(task: QueuedTask, msg: PulledMessage, fn: () => Promise<void>): Promise<void> {
    const tracer = this.d.bus.tracer;
    if (!tracer) return fn();
    const attributes = { [SpanAttributes.TaskId]: task.taskId, [SpanAttributes.TenantId]: task.tenantId, [SpanAttributes.Capability]: task.capability, [SpanAttributes.Attempt]: msg.info.deliveryCount, [SpanAttributes.AgentId]: this.d.workerId };
    return tracer.inSpan(SpanNames.Run, { kind: 'consumer', root: true, parent: msg.headers?.get(Headers.TraceParent) || undefined, attributes }, fn);
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
    const reclaimedAt = attempt === 1 ? Number(msg.headers?.get(Headers.Reclaimed)) : 0;
    const started =
      reclaimedAt > 0 && agent
        ? await this.startReclaimCopy(task, msg, attempt, reclaimedAt)
        : ((await this.startFast(task, msg, attempt)) ?? (await this.startFromStore(task, msg, attempt, agent !== undefined)));
    if (!started) return;
    if (!agent) return; // startFromStore settled it
    this.announce(started.record, msg);
    let revision = started.revision;
    let record = started.record;

    const controller = this.d.aborts.add(task.taskId);
    const deadline = setTimeout(() => this.d.aborts.abort(task.taskId, 'timed_out'), Math.max(0, Date.parse(task.deadlineAt) - this.now().getTime()));
    // Keep-alive only while the record still names this lease: a zombie must not extend a task it lost.
    const lease = started.record.lease;
    const keepAlive = setInterval(() => void this.fence.keepAlive(task, msg, lease), Math.max(250, Math.floor(this.d.ackWaitMs / 3)));
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
      this.d.outcomes?.record(task.capability, 'ok');
      await writes;
      const done = markSucceeded(record, result, this.now());
      const stored = done ? await this.storeResult(task, msg, done, revision, attempt) : 'superseded';
      if (stored === 'stored') this.announce(done!, msg);
      // 'superseded': cancelled, timed out or reclaimed meanwhile, so this result is not stored.
      stopTimer(stored === 'stored' ? 'succeeded' : stored);
      if (stored === 'superseded') await this.fence.settleSuperseded(task, msg, lease);
      else msg.ack();
    } catch (e) {
      markSpanError(activeSpan(), e);
      await writes;
      if (await this.fence.lost(task, controller.signal, lease)) stopTimer('superseded');
      else {
        await this.onFailure(task, msg, record, revision, e, controller.signal, attempt);
        stopTimer('failed');
      }
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

  /**
   * A copy recovery republished for a task its dead holder kept: it runs only if the record
   * is still exactly where recovery left it; otherwise another copy has it (or it ended), so
   * this one is dropped rather than run twice.
   */
  private async startReclaimCopy(task: QueuedTask, msg: PulledMessage, attempt: number, revision: number): Promise<Versioned | undefined> {
    const cur = await this.d.store.get(task.tenantId, task.taskId);
    const next = cur && cur.revision === revision ? markRunning(cur.record, this.d.workerId, attempt, this.now()) : undefined;
    const rev = next ? await this.d.store.replace(next, revision) : undefined;
    if (next && rev !== undefined) return { record: next, revision: rev };
    msg.ack();
    return undefined;
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
      return void (await this.deadLetter(task, msg, stored.record, taskError('WORKER.LOST', 'The worker running this task stopped responding', true, attempt, this.d.workerId, now, 'worker_lost')));
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
      const err = taskError('TASK.RESULT_TOO_LARGE', 'The result is larger than a message can carry; return a reference to it instead', false, attempt, this.d.workerId, now, 'agent_error');
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
    const cls = classifyFailure(e, signal.aborted ? String(signal.reason) : undefined);
    this.d.outcomes?.record(task.capability, cls);
    if (signal.aborted) {
      const reason = signal.reason as AbortReason;
      if (reason === 'shutdown') return msg.nak(0); // another worker takes it at once
      if (reason === 'timed_out') return this.settle(task, msg, (r) => markTimedOut(r, now));
      return msg.ack(); // cancelled: the gateway that cancelled it told everyone
    }
    if (e instanceof NonRetryableTaskError) {
      return this.settle(task, msg, (r) => markFailed(r, taskError(e.code, e.message, false, attempt, this.d.workerId, now, cls), now));
    }
    const err = taskError(e instanceof RetryableTaskError ? e.code : 'AGENT.ERROR', messageOf(e), true, attempt, this.d.workerId, now, cls);
    if (budgetExhausted(this.d.retry, attempt)) return this.deadLetter(task, msg, record, err);
    const next = markRetrying(record, err);
    if (next && (await this.d.store.replace(next, revision)) !== undefined) publishTaskEvent(this.d.bus, next, now);
    // A provider's rate limit waits at least as long as it asked (breaker-gate-classify.ts).
    const delay = backoffMs(this.d.retry, attempt);
    msg.nak(cls === 'rate_limited' ? rateLimitDelayMs(e, delay, Math.max(delay, this.d.retry.maxMs)) : delay);
  }

  private async deadLetter(task: QueuedTask, msg: PulledMessage, record: TaskRecord, err: TaskError): Promise<void> {
    const entry: DeadLetter = { task, errors: [...record.errors, err], deadLetteredAt: this.now().toISOString() };
    await this.d.client.js.publish(this.d.client.names.deadLetters.subject(task.capability), encode(entry), { msgID: `dlq-${task.taskId}-${Date.parse(task.deadlineAt)}` } /* per attempt cycle: a redriven task can dead-letter again */);
    await this.settle(task, msg, (r) => markDeadLettered(r, err, this.now()));
  }

  /** Apply a final transition (if still allowed), announce it, and acknowledge the message. */
  private async settle(task: QueuedTask, msg: PulledMessage, change: (r: TaskRecord) => TaskRecord | undefined): Promise<void> {
    const { applied, current } = await this.d.store.transition(task.tenantId, task.taskId, change);
    if (applied && current) this.announce(current.record, msg);
    msg.ack();
  }
}

function taskError(code: string, message: string, retryable: boolean, attempt: number, agentId: string, at: Date, cls?: ErrorClass): TaskError {
  const err: TaskError = { code, message: message.slice(0, 2000), retryable, attempt, agentId, at: at.toISOString() };
  if (cls) err.class = cls;
  return err;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : typeof e === 'string' ? e : 'agent failed';
}
