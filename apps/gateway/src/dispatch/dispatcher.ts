/**
 * The control plane's side of agent protocol v1 (docs/agent-protocol.md): hands queued tasks to
 * agents under leases, and stores what they report only when it comes from the lease's holder
 * at the lease's epoch. The queue message stays here: an agent never acks, naks or sees it, and
 * never writes a record. Each verb on a lease reaches the dispatcher that granted it (its own
 * subjects), so none costs a read of the record; a refusal reads it once, to say why.
 *
 * Leases end when the agent completes or fails the task, when the task is cancelled or times out
 * (the agent gets an abort notice), when the agent goes down (handed back at once), or when the
 * agent stops keeping it alive (the server redelivers the message after its ack wait).
 */
import {
  AGENT_SESSION_HEADER,
  AgentSessionError,
  type AbortNotice,
  type CompleteRequest,
  type FailRequest,
  Headers,
  type KeepAliveReply,
  type Lease,
  type LeasedTask,
  LeaseLostError,
  type LeaseEndReason,
  NotCapableError,
  NotLeasedError,
  type OutcomeReply,
  type ProgressRequest,
  type QueuedTask,
  QueuedTaskSchema,
  SpanAttributes,
  SpanNames,
  type TakeRequest,
} from '@sb/contracts';
import type { Span } from '@opentelemetry/api';
import { budgetExhausted, type Bus, type PulledMessage, type RetryPolicy, type SecurityEventInput } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import { type TaskAnnouncer, type TaskQueue, type TaskRun, TaskRuns, type TaskStore } from '@sb/tasks';
import type { TaskSource } from './task-source';

interface Held {
  agentId: string;
  task: QueuedTask;
  msg: PulledMessage;
  run: TaskRun;
  epoch: number;
  expiresAt: number;
  deadline: number;
  span?: Span;
}

export interface DispatcherDeps {
  bus: Bus;
  store: TaskStore;
  queue: TaskQueue;
  announcer: TaskAnnouncer;
  source: TaskSource;
  retry: RetryPolicy;
  /** How long a lease lasts without a keep-alive (the queue consumers' ack wait). */
  leaseMs: number;
  /** This dispatcher's instance id: where the verbs on its leases go. */
  instanceId: string;
  /** Capabilities an agent registered (undefined: not registered, nothing to take). */
  capabilitiesOf: (agentId: string) => Promise<readonly string[] | undefined>;
  /** Whether `session` is the agent's current one (its registration's). */
  sessionMatches: (agentId: string, session: string | undefined) => Promise<boolean>;
  securityEvent: (e: SecurityEventInput) => void;
  logger: AppLogger;
  now?: () => number;
}

const key = (l: { tenantId: string; taskId: string }) => `${l.tenantId}.${l.taskId}`;
/** Leases that ended here, remembered so a late call from their holder is told it lost the lease. */
const ENDED_MEMORY = 10_000;

export class Dispatcher {
  private readonly held = new Map<string, Held>();
  private readonly byAgent = new Map<string, Set<string>>();
  private readonly ended = new Map<string, { agentId: string; epoch: number }>();
  /** Agents declared down (or gone) since they last came up: a take of theirs still waiting gets nothing. */
  private readonly gone = new Set<string>();
  private readonly now: () => number;
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly d: DispatcherDeps) {
    this.now = d.now ?? Date.now;
  }

  start(sweepMs = 250): void {
    this.sweeper ??= setInterval(() => void this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  /** Shutdown: stop granting; every lease still held goes back to the queue for another dispatcher. */
  stop(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const h of [...this.held.values()]) this.release(h, 'reclaimed', () => h.run.handBack());
  }

  get leases(): number {
    return this.held.size;
  }

  /** Every verb first: the agent speaks only as the id whose session it holds. */
  async authenticate(agentId: string, session: string | undefined, verb: string): Promise<void> {
    if (await this.d.sessionMatches(agentId, session)) return;
    this.refuse(agentId, verb, session ? 'session of another agent, or a stale one' : 'no session');
    throw new AgentSessionError(`No session of agent ${agentId}: register first, and send ${AGENT_SESSION_HEADER} on every message`);
  }

  async take(agentId: string, req: TakeRequest): Promise<LeasedTask[]> {
    const registered = await this.d.capabilitiesOf(agentId);
    if (!registered) {
      this.refuse(agentId, 'take', 'not registered');
      throw new NotCapableError(`Agent ${agentId} is not registered (or left): register first`);
    }
    const wanted = req.capabilities ?? registered;
    const refused = wanted.filter((c) => !registered.includes(c));
    if (refused.length) {
      this.refuse(agentId, 'take', `capabilities not registered: ${refused.join(', ')}`);
      throw new NotCapableError(`Agent ${agentId} did not register ${refused.join(', ')}`);
    }
    if (!wanted.length) return [];
    this.gone.delete(agentId); // it asks, so it is there
    const until = this.now() + req.waitMs;
    for (;;) {
      const tasks = await this.grant(agentId, await this.d.source.pull(wanted, req.max));
      // Declared down while this take waited (its agent died mid-request): nobody would run them.
      if (this.gone.has(agentId)) {
        for (const t of tasks) this.handBack(t.lease);
        return [];
      }
      const left = until - this.now();
      if (tasks.length || left <= 0) return tasks;
      await this.d.source.waitForWork(wanted, left);
    }
  }

  keepAlive(agentId: string, leases: Lease[]): KeepAliveReply {
    return {
      leases: leases.map((l) => {
        const h = this.held.get(key(l));
        if (!h || h.agentId !== agentId || h.epoch !== l.epoch) return { taskId: l.taskId, held: false, reason: 'reclaimed' as const };
        h.expiresAt = this.now() + this.d.leaseMs;
        h.msg.working();
        return { taskId: l.taskId, held: true };
      }),
    };
  }

  async progress(agentId: string, req: ProgressRequest): Promise<{ ok: true }> {
    const h = await this.holder(agentId, req.lease, 'progress');
    h.run.progress(req.progress);
    return { ok: true };
  }

  async complete(agentId: string, req: CompleteRequest): Promise<OutcomeReply> {
    const h = await this.holder(agentId, req.lease, 'complete');
    this.forget(h);
    const stored = await h.run.complete(req.result);
    h.span?.end();
    if (stored === 'superseded') throw new LeaseLostError(`Task ${h.task.taskId} was reclaimed, cancelled or timed out; its result was not stored`);
    return this.withNext(agentId, { status: stored === 'stored' ? 'succeeded' : 'failed' }, req.take);
  }

  async fail(agentId: string, req: FailRequest): Promise<OutcomeReply> {
    const h = await this.holder(agentId, req.lease, 'fail');
    this.forget(h);
    const e = req.error;
    const failure = { code: e.code, message: e.message, class: e.class, minDelayMs: e.class === 'rate_limited' ? e.retryAfterMs : undefined };
    let status: OutcomeReply['status'];
    if (!e.retryable) {
      await h.run.fail(failure);
      status = 'failed';
    } else {
      status = budgetExhausted(this.d.retry, h.run.attempt) ? 'dead_lettered' : 'retrying';
      await h.run.retry(failure);
    }
    h.span?.setAttribute('error.type', e.code);
    h.span?.end();
    return this.withNext(agentId, { status }, req.take);
  }

  /** The agent is down or left: its leases go back to the queue at once (not after the ack wait). */
  agentDown(agentId: string): number {
    this.gone.add(agentId);
    if (this.gone.size > ENDED_MEMORY) this.gone.delete(this.gone.values().next().value!);
    const keys = [...(this.byAgent.get(agentId) ?? [])];
    for (const k of keys) {
      const h = this.held.get(k);
      if (h) this.release(h, 'reclaimed', () => h.run.handBack());
    }
    return keys.length;
  }

  /** The agent is up again (it beats or registered): it may be handed work. */
  agentUp(agentId: string): void {
    this.gone.delete(agentId);
  }

  private handBack(l: Lease): void {
    const h = this.held.get(key(l));
    if (h) this.release(h, 'reclaimed', () => h.run.handBack());
  }

  /** The task ended elsewhere (cancelled): its holder is told to stop, and the queue message is settled. */
  aborted(taskId: string): void {
    for (const h of this.held.values()) {
      if (h.task.taskId === taskId) this.release(h, 'cancelled', () => h.run.cancelled());
    }
  }

  private async grant(agentId: string, msgs: PulledMessage[]): Promise<LeasedTask[]> {
    const runs = new TaskRuns({
      store: this.d.store,
      queue: this.d.queue,
      announcer: this.d.announcer,
      retry: this.d.retry,
      workerId: agentId,
      now: () => new Date(this.now()),
      onSuperseded: (taskId, lease, holder) => this.d.logger.info({ taskId, lease, holder }, 'a reclaimed task’s late result was not stored'),
    });
    const out: LeasedTask[] = [];
    for (const msg of msgs) {
      const task = this.parse(msg);
      if (!task) continue;
      try {
        const run = await runs.start(task, msg, true);
        if (run?.lease) out.push(this.lease(agentId, task, msg, run));
      } catch (err) {
        // Storage trouble: the server redelivers it later rather than lose it.
        this.d.logger.warn({ err, taskId: task.taskId }, 'could not start a task; it is redelivered');
        if (!msg.isSettled) msg.nak(1_000);
      }
    }
    return out;
  }

  private lease(agentId: string, task: QueuedTask, msg: PulledMessage, run: TaskRun): LeasedTask {
    const now = this.now();
    const epoch = run.lease!.epoch;
    const tracer = this.d.bus.tracer;
    const parent = msg.headers?.get(Headers.TraceParent) || undefined;
    const span = tracer?.enabled
      ? tracer.startSpan(SpanNames.Run, {
          kind: 'consumer',
          root: true,
          parent,
          attributes: { [SpanAttributes.TaskId]: task.taskId, [SpanAttributes.TenantId]: task.tenantId, [SpanAttributes.Capability]: task.capability, [SpanAttributes.Attempt]: run.attempt, [SpanAttributes.AgentId]: agentId },
        })
      : undefined;
    const h: Held = { agentId, task, msg, run, epoch, expiresAt: now + this.d.leaseMs, deadline: Date.parse(task.deadlineAt), span };
    const k = key(task);
    this.held.set(k, h);
    let mine = this.byAgent.get(agentId);
    if (!mine) this.byAgent.set(agentId, (mine = new Set()));
    mine.add(k);
    return {
      taskId: task.taskId,
      tenantId: task.tenantId,
      capability: task.capability,
      priority: task.priority,
      input: task.input,
      metadata: task.metadata,
      idempotencyKey: task.idempotencyKey ?? task.taskId,
      deliveryCount: run.attempt,
      deadlineAt: task.deadlineAt,
      ...(span && tracer ? { traceparent: tracer.traceparentOf(span) } : parent ? { traceparent: parent } : {}),
      lease: { taskId: task.taskId, tenantId: task.tenantId, epoch },
      leaseExpiresAt: new Date(h.expiresAt).toISOString(),
      dispatcher: this.d.instanceId,
    };
  }

  /** The lease's holder, or a refusal (recorded as a security event) that says why. */
  private async holder(agentId: string, l: Lease, verb: string): Promise<Held> {
    const h = this.held.get(key(l));
    if (h && h.agentId === agentId && h.epoch === l.epoch) return h;
    const ended = this.ended.get(key(l));
    if (ended?.agentId === agentId && ended.epoch === l.epoch) {
      this.refuse(agentId, verb, `stale lease epoch ${l.epoch} for task ${l.taskId}`, l);
      throw new LeaseLostError(`Task ${l.taskId}: lease epoch ${l.epoch} is no longer current`);
    }
    if (h && h.agentId !== agentId) {
      this.refuse(agentId, verb, `task ${l.taskId} is leased to another agent`, l);
      throw new NotLeasedError(`Task ${l.taskId} is not leased to ${agentId}`);
    }
    // Not held here (ended elsewhere, or never this agent's): the record says which.
    const cur = await this.d.store.get(l.tenantId, l.taskId).catch(() => undefined);
    const wasOurs = cur?.record.lease?.agentId === agentId;
    this.refuse(agentId, verb, wasOurs ? `stale lease epoch ${l.epoch} for task ${l.taskId}` : `task ${l.taskId} was never leased to this agent`, l);
    if (wasOurs) throw new LeaseLostError(`Task ${l.taskId}: lease epoch ${l.epoch} is no longer current`);
    throw new NotLeasedError(`Task ${l.taskId} is not leased to ${agentId}`);
  }

  private async withNext(agentId: string, reply: OutcomeReply, take: TakeRequest | undefined): Promise<OutcomeReply> {
    if (!take) return reply;
    return { ...reply, tasks: await this.take(agentId, take) };
  }

  private forget(h: Held): void {
    const k = key(h.task);
    if (this.held.get(k) === h) this.held.delete(k);
    this.ended.delete(k);
    this.ended.set(k, { agentId: h.agentId, epoch: h.epoch });
    if (this.ended.size > ENDED_MEMORY) this.ended.delete(this.ended.keys().next().value!);
    const mine = this.byAgent.get(h.agentId);
    mine?.delete(k);
    if (mine && !mine.size) this.byAgent.delete(h.agentId);
  }

  /** End a lease here: the agent is told (abort notice), then the queue message is settled by `settle`. */
  private release(h: Held, reason: LeaseEndReason, settle: () => unknown): void {
    this.forget(h);
    const notice: AbortNotice = { taskId: h.task.taskId, tenantId: h.task.tenantId, epoch: h.epoch, reason };
    this.d.bus.publish(this.d.bus.names.agents.work(h.agentId, 'abort'), notice);
    h.span?.end();
    void Promise.resolve()
      .then(settle)
      .catch((err: unknown) => this.d.logger.warn({ err, taskId: h.task.taskId }, 'could not settle a released lease'));
  }

  /** Deadlines (the task times out; its agent is told) and leases not kept alive (the server redelivers the message). */
  private async sweep(): Promise<void> {
    const now = this.now();
    for (const h of [...this.held.values()]) {
      if (now >= h.deadline) this.release(h, 'timed_out', () => h.run.timeOut());
      else if (now >= h.expiresAt) {
        this.forget(h);
        h.span?.end();
      }
    }
  }

  private refuse(agentId: string, verb: string, reason: string, l?: Lease): void {
    this.d.securityEvent({ type: 'agent_refused', transport: 'nats', route: `agents.${verb}`, agentId, tenantId: l?.tenantId, reason: reason.slice(0, 128) });
  }

  private parse(msg: PulledMessage): QueuedTask | undefined {
    try {
      return QueuedTaskSchema.parse(JSON.parse(new TextDecoder().decode(msg.data)));
    } catch (err) {
      this.d.logger.error({ err, subject: msg.subject }, 'unreadable task message; terminated');
      msg.term();
      return undefined;
    }
  }
}
