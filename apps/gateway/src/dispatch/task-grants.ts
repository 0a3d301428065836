/**
 * From the queue to leases: what one `take` hands an agent. Parked tasks whose tenant has a slot
 * for them now come first, then the queue, within the agent's breakers (none of a capability
 * whose breaker for it is open; the probes of a half-open one). A pulled task of a tenant with a
 * ceiling on running tasks starts only with one of its slots; without one it is parked (a task
 * of a tenant already waiting queues behind without asking) and the take pulls past it, so no
 * delivery is spent and other tenants are not held up. Each task handed out moves its record to
 * `running` under a new lease (libs/tasks TaskRuns) and is held in HeldLeases.
 */
import { Headers, type LeasedTask, type QueuedTask, QueuedTaskSchema, SpanAttributes, SpanNames } from '@sb/contracts';
import type { PulledMessage } from '@sb/messaging';
import { needsSlot, type SlotTask, type TaskRun, TaskRuns } from '@sb/tasks';
import type { DispatcherDeps } from './dispatcher-deps';
import type { Held, HeldLeases } from './held-leases';
import type { Parked, ParkedTasks } from './parked-tasks';
import type { PullBudget } from './task-source';

type Admission = { to: 'grant'; task: QueuedTask; msg: PulledMessage; slot: boolean } | { to: 'parked' | 'dropped'; capability?: string };

export interface GrantDeps {
  d: DispatcherDeps;
  leases: HeldLeases;
  parked: ParkedTasks;
  /** Give a slot back (a granted task that is not to run after all). */
  giveSlotBack: (t: SlotTask) => void;
  /** A deferred running record could not be written: the task ended (`ended`) or runs elsewhere now; its lease here ends. */
  runningRecordLost: (taskId: string, ended: boolean) => void;
  now: () => number;
}

const DEFAULT_MAX_PARKED = 10_000;

/**
 * The wait before a delivery that storage trouble kept from starting comes back: 0.5 s, doubling
 * to 8 s, so an outage of a minute (a NATS leader election takes seconds) spends fewer of the
 * consumer's deliveries (taskMaxDeliver) than it has.
 */
export function storageRetryDelayMs(delivery: number): number {
  return Math.min(500 * 2 ** Math.max(0, delivery - 1), 8_000);
}

export class TaskGrants {
  private readonly d: DispatcherDeps;
  private lastParkedWarn = 0;

  constructor(private readonly g: GrantDeps) {
    this.d = g.d;
  }

  /** Up to `max` tasks of `wanted` for the agent (registered with `registered`), now; none when there are none. */
  async collect(agentId: string, registered: readonly string[], wanted: readonly string[], max: number): Promise<LeasedTask[]> {
    const budget = this.budget(agentId);
    const runs = this.runsFor(agentId);
    const out: LeasedTask[] = [];
    const grant = async (task: QueuedTask, msg: PulledMessage, slot: boolean) => {
      const leased = await this.start(agentId, registered, runs, task, msg, slot);
      if (leased) out.push(leased);
      else budget.refund(task.capability, 1);
    };
    const fromParking = async () => {
      if (!this.g.parked.size || !this.d.slots) return;
      for (const p of await this.g.parked.claim(wanted, max - out.length, budget)) await grant(p.task, p.msg, true);
    };
    await fromParking();
    let parkedNow = false;
    for (let more = out.length < max; more && this.roomToPark(); ) {
      const ask = max - out.length;
      const msgs = await this.d.source.pull(wanted, ask, budget);
      // The batch's slot requests go out together, then its grants (each a record write) together; handed out in pull order.
      const admitted = await Promise.all(msgs.map((m) => this.admit(agentId, m)));
      for (const a of admitted) {
        if (a.to !== 'grant' && a.capability) budget.refund(a.capability, 1);
        if (a.to === 'parked') parkedNow = true;
      }
      const leased = await Promise.all(admitted.map((a) => (a.to === 'grant' ? this.start(agentId, registered, runs, a.task, a.msg, a.slot) : undefined)));
      for (const [i, l] of leased.entries()) {
        const a = admitted[i]!;
        if (l) out.push(l);
        else if (a.to === 'grant') budget.refund(a.task.capability, 1);
      }
      // Pull again only past what was parked or dropped, while the queues may hold more.
      more = msgs.length === ask && out.length < max;
    }
    if (parkedNow && out.length < max && this.g.parked.due(wanted)) await fromParking();
    return out;
  }

  /**
   * A parked task cancelled or past its deadline: the lifecycle settles it without a slot, as the
   * worker's 'skip' did (the record says cancelled, or it is timed out; the message is acked).
   */
  async skip(p: Parked): Promise<void> {
    try {
      // Checked against the record (never deferred): skipping is for a task that was cancelled or expired.
      const run = await this.runsFor(p.pulledBy, false).start(p.task, p.msg, true);
      // Still to run after all (neither cancelled nor past its deadline): back to the queue for the next take.
      run?.handBack();
    } catch (err) {
      this.d.logger.warn({ err, taskId: p.task.taskId }, 'could not settle a parked task; it is redelivered');
      if (!p.msg.isSettled) p.msg.nak(storageRetryDelayMs(p.msg.info.deliveryCount));
    }
  }

  /** A pulled message: to be granted (with its tenant's slot when it has a ceiling), parked until the tenant has one, or dropped (unreadable). */
  private async admit(agentId: string, msg: PulledMessage): Promise<Admission> {
    const task = this.parse(msg);
    if (!task) return { to: 'dropped' };
    const slots = this.d.slots;
    if (!slots || !needsSlot(msg)) return { to: 'grant', task, msg, slot: false };
    if (this.g.parked.waiting(task.tenantId)) {
      this.g.parked.park({ task, msg, pulledBy: agentId, keptAliveAt: this.g.now() });
      return { to: 'parked', capability: task.capability };
    }
    const reply = await slots.tryAcquire(task);
    if (reply.granted) return { to: 'grant', task, msg, slot: true };
    msg.working();
    this.g.parked.park({ task, msg, pulledBy: agentId, keptAliveAt: this.g.now() }, reply.retryAfterMs);
    return { to: 'parked', capability: task.capability };
  }

  /** Start the task's run under a lease for the agent; when it is not to run (the lifecycle settled it), its slot goes back. */
  private async start(
    agentId: string,
    registered: readonly string[],
    runs: TaskRuns,
    task: QueuedTask,
    msg: PulledMessage,
    slot: boolean,
  ): Promise<LeasedTask | undefined> {
    try {
      const run = await runs.start(task, msg, true);
      if (run?.lease) return this.lease(agentId, registered, task, msg, run, slot);
    } catch (err) {
      // Storage trouble: the server redelivers it later rather than lose it (not an attempt: TaskRuns counts attempts from the record).
      this.d.logger.warn({ err, taskId: task.taskId }, 'could not start a task; it is redelivered');
      if (!msg.isSettled) msg.nak(storageRetryDelayMs(msg.info.deliveryCount));
    }
    if (slot) this.g.giveSlotBack(task);
    return undefined;
  }

  private lease(agentId: string, capabilities: readonly string[], task: QueuedTask, msg: PulledMessage, run: TaskRun, slot: boolean): LeasedTask {
    const now = this.g.now();
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
    const h: Held = {
      agentId,
      capabilities,
      task,
      msg,
      run,
      epoch,
      expiresAt: now + this.d.leaseMs,
      deadline: Date.parse(task.deadlineAt),
      slot,
      slotRenewAt: now + (this.d.slots?.renewEveryMs ?? 0),
      span,
    };
    this.g.leases.add(h);
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

  private runsFor(agentId: string, deferRunningRecord = true): TaskRuns {
    return new TaskRuns({
      store: this.d.store,
      queue: this.d.queue,
      announcer: this.d.announcer,
      retry: this.d.retry,
      workerId: agentId,
      recordRunningAfterMs: deferRunningRecord ? this.d.recordRunningAfterMs : 0,
      onRunningRecordLost: (taskId, ended) => this.g.runningRecordLost(taskId, ended),
      now: () => new Date(this.g.now()),
      onSuperseded: (taskId, lease, holder) => this.d.logger.info({ taskId, lease, holder }, 'a reclaimed task’s late result was not stored'),
    });
  }

  /** The agent's breakers as a pull budget: none of an open capability, the probes of a half-open one. */
  private budget(agentId: string): PullBudget {
    const gate = this.d.gate;
    if (!gate) return { reserve: (_c, want) => want, refund: () => undefined };
    return {
      reserve: (c, want) => {
        const n = gate.allow(agentId, c, want);
        gate.took(agentId, c, n);
        return n;
      },
      refund: (c, n) => gate.gaveBack(agentId, c, n),
    };
  }

  /** Whether a take may pull (and so perhaps park) more; past the bound it waits for parked tasks to start. */
  private roomToPark(): boolean {
    if (this.g.parked.size < (this.d.maxParked ?? DEFAULT_MAX_PARKED)) return true;
    if (this.g.now() - this.lastParkedWarn > 10_000) {
      this.lastParkedWarn = this.g.now();
      this.d.logger.warn({ parked: this.g.parked.size }, 'too many tasks wait for their tenants’ slots; pulling paused until some start');
    }
    return false;
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
