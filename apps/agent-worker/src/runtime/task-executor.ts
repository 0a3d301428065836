/**
 * Runs one pulled task to an outcome: the task lifecycle (libs/tasks TaskRuns) decides whether
 * this delivery runs and moves its record to running under a lease; the agent then runs with an
 * abort signal, keep-alives and a deadline; its outcome goes back to the lifecycle, which stores
 * it once, retries with backoff, dead-letters, and settles the message.
 */
import { Headers, SpanAttributes, SpanNames, type QueuedTask, QueuedTaskSchema } from '@sb/contracts';
import { backoffMs, type Bus, type PulledMessage, type RetryPolicy } from '@sb/messaging';
import { activeSpan, type AppLogger, markSpanError } from '@sb/observability';
import { type TaskRun, TaskRuns, type TaskAnnouncer, type TaskQueue, type TaskStore } from '@sb/tasks';
import { NonRetryableTaskError, RetryableTaskError } from '../agents/agent';
import type { AgentRegistry } from '../agents/agent-registry';
import type { AbortReason, AbortRegistry } from './abort-registry';
import type { TenantSlots } from './tenant-slots';
import type { WorkerMetrics } from './worker-metrics';
import { classifyFailure, retryAfterHintMs } from './breaker-gate-classify';
import type { OutcomeSink } from './breaker-gate-outcomes';

export interface ExecutorDeps {
  /** For its tracer: the run span. */
  bus: Bus;
  store: TaskStore;
  queue: TaskQueue;
  announcer: TaskAnnouncer;
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

export class TaskExecutor {
  private readonly now: () => Date;
  private readonly runs: TaskRuns;
  constructor(private readonly d: ExecutorDeps) {
    this.now = d.now ?? (() => new Date());
    this.runs = new TaskRuns({
      store: d.store,
      queue: d.queue,
      announcer: d.announcer,
      retry: d.retry,
      workerId: d.workerId,
      now: this.now,
      onSuperseded: (taskId, lease, holder) => d.logger.warn({ taskId, lease, holder }, 'task was reclaimed from this worker; late result dropped'),
    });
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
    const attributes = {
      [SpanAttributes.TaskId]: task.taskId,
      [SpanAttributes.TenantId]: task.tenantId,
      [SpanAttributes.Capability]: task.capability,
      [SpanAttributes.Attempt]: msg.info.deliveryCount,
      [SpanAttributes.AgentId]: this.d.workerId,
    };
    const parent = msg.headers?.get(Headers.TraceParent) || undefined;
    return tracer.inSpan(SpanNames.Run, { kind: 'consumer', root: true, parent, attributes }, fn);
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
    const agent = this.d.agents.route(task);
    const run = await this.runs.start(task, msg, agent !== undefined);
    if (!run || !agent) return; // not to run here: the lifecycle settled it

    const controller = this.d.aborts.add(task.taskId);
    const deadline = setTimeout(() => this.d.aborts.abort(task.taskId, 'timed_out'), Math.max(0, Date.parse(task.deadlineAt) - this.now().getTime()));
    // Keep-alive only while the record still names this lease: a zombie must not extend a task it lost.
    const keepAlive = setInterval(
      () => void run.keepAlive().then((ours) => ours || this.d.aborts.abort(task.taskId, 'lost_lease'), () => undefined),
      Math.max(250, Math.floor(this.d.ackWaitMs / 3)),
    );
    const stopTimer = this.d.metrics.startTask(task.capability);
    try {
      const result = await agent.handle(task, {
        signal: controller.signal,
        deliveryCount: run.attempt,
        idempotencyKey: task.idempotencyKey ?? task.taskId,
        agentId: this.d.workerId,
        progress: (value) => run.progress(value),
      });
      if (controller.signal.aborted) throw controller.signal.reason;
      this.d.outcomes?.record(task.capability, 'ok');
      const stored = await run.complete(result);
      stopTimer(stored === 'stored' ? 'succeeded' : stored);
    } catch (e) {
      markSpanError(activeSpan(), e);
      if (await run.lost(controller.signal)) stopTimer('superseded');
      else {
        await this.onFailure(task, run, e, controller.signal);
        stopTimer('failed');
      }
    } finally {
      clearTimeout(deadline);
      clearInterval(keepAlive);
      this.d.aborts.remove(task.taskId);
    }
  }

  private async onFailure(task: QueuedTask, run: TaskRun, e: unknown, signal: AbortSignal): Promise<void> {
    const cls = classifyFailure(e, signal.aborted ? String(signal.reason) : undefined);
    this.d.outcomes?.record(task.capability, cls);
    if (signal.aborted) {
      const reason = signal.reason as AbortReason;
      if (reason === 'shutdown') return run.handBack(); // another worker takes it at once
      if (reason === 'timed_out') return run.timeOut();
      return run.cancelled(); // the gateway that cancelled it told everyone
    }
    if (e instanceof NonRetryableTaskError) return run.fail({ code: e.code, message: e.message, class: cls });
    // A provider's rate limit waits at least as long as it asked (breaker-gate-classify.ts).
    const minDelayMs = cls === 'rate_limited' ? retryAfterHintMs(e) : undefined;
    return run.retry({ code: e instanceof RetryableTaskError ? e.code : 'AGENT.ERROR', message: messageOf(e), class: cls, minDelayMs });
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : typeof e === 'string' ? e : 'agent failed';
}
