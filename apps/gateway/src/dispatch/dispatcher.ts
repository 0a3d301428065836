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
 *
 * What the bundled worker used to decide for itself is decided here, since agents are untrusted:
 *  - circuit breakers: an agent is handed no task of a capability whose breaker for it is open,
 *    and only the probe count per half-open period (BreakerGate); every lease's end is an
 *    attempt outcome of its agent, batched per agent to recovery's breakers (AgentOutcomes).
 *  - tenant slots: a task of a tenant with a ceiling on running tasks is handed out only with
 *    one of the tenant's slots, held for as long as the lease and given back when it ends; until
 *    then it is parked here (ParkedTasks), its message kept alive.
 */
import {
  AGENT_SESSION_HEADER,
  AgentSessionError,
  type AbortNotice,
  type CompleteRequest,
  type FailRequest,
  type KeepAliveReply,
  type Lease,
  type LeasedTask,
  LeaseLostError,
  type LeaseEndReason,
  NotCapableError,
  NotLeasedError,
  type OutcomeReply,
  type ProgressRequest,
  type TakeRequest,
} from '@sb/contracts';
import { budgetExhausted } from '@sb/messaging';
import { markSpanError } from '@sb/observability';
import type { AttemptOutcome, Completion, SlotTask } from '@sb/tasks';
import type { DispatcherDeps } from './dispatcher-deps';
import { type Held, HeldLeases } from './held-leases';
import { ParkedTasks } from './parked-tasks';
import { TaskGrants } from './task-grants';

export type { DispatcherDeps } from './dispatcher-deps';

/** How many agents declared down are remembered (a take of theirs still waiting gets nothing). */
const GONE_MEMORY = 10_000;

export class Dispatcher {
  private readonly heldLeases = new HeldLeases();
  /**
   * Agents declared down (or gone) since they last came up, with when (the collector's clock): a
   * take of theirs gets nothing, however late it arrives, until they register again.
   */
  private readonly gone = new Map<string, number>();
  private readonly now: () => number;
  private readonly parked: ParkedTasks;
  private readonly grants: TaskGrants;
  /** Settles and slot releases under way (awaited on stop). */
  private readonly pending = new Set<Promise<unknown>>();
  private sweeper?: NodeJS.Timeout;
  private stopped = false;
  /** Shutting down gracefully: nothing new is granted; the leases held run to their end. */
  private draining = false;
  /** Grants under way (a task pulled, its lease not yet held): a drain waits for them too. */
  private readonly granting = new Set<Promise<unknown>>();

  constructor(private readonly d: DispatcherDeps) {
    this.now = d.now ?? Date.now;
    this.parked = new ParkedTasks({
      slots: { tryAcquire: (t) => d.slots!.tryAcquire(t), release: (t) => this.track(d.slots!.release(t)) },
      wake: (capability) => d.source.hinted(capability),
      keepAliveMs: Math.max(100, Math.floor(d.leaseMs / 3)),
      now: this.now,
    });
    this.grants = new TaskGrants({
      d,
      leases: this.heldLeases,
      parked: this.parked,
      giveSlotBack: (t) => this.giveSlotBack(t),
      runningRecordLost: (taskId, ended) => this.runningRecordLost(taskId, ended),
      now: this.now,
    });
  }

  start(sweepMs = 250): void {
    this.stopped = false;
    this.draining = false;
    this.sweeper ??= setInterval(() => void this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  /**
   * Graceful shutdown, first step (while the verbs are still served): grant nothing new (a take
   * waiting here answers empty when the dispatcher stops), hand parked tasks back for another
   * dispatcher, and let the agents finish what they hold here, for at most `graceMs`. A rolling
   * restart of a gateway so costs no running task.
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    for (const p of this.parked.drain()) p.msg.nak(0);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise((r) => (timer = setTimeout(r, graceMs)));
    // A grant under way becomes a lease held here (its agent gets the task): wait for those, then for every lease to end.
    await Promise.race([Promise.allSettled([...this.granting]).then(() => this.heldLeases.whenEmpty()), grace]);
    clearTimeout(timer);
  }

  /**
   * Shutdown: stop granting; every lease still held and every parked task goes back to the queue
   * for another dispatcher, and their slots are given back. Resolves once done (at most `graceMs`).
   */
  async stop(graceMs = 2_000): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const h of this.heldLeases.all()) this.release(h, 'reclaimed', () => h.run.handBack(), 'cancelled');
    for (const p of this.parked.drain()) p.msg.nak(0);
    // A settle gives the slot back once done: wait for the releases it starts too.
    const until = this.now() + graceMs;
    while (this.pending.size && this.now() < until) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...this.pending]), new Promise((r) => (timer = setTimeout(r, until - this.now())))]);
      clearTimeout(timer);
    }
  }

  get leases(): number {
    return this.heldLeases.size;
  }

  /** Tasks waiting here for their tenant's slot. */
  get parkedTasks(): number {
    return this.parked.size;
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
    const until = this.now() + req.waitMs;
    for (;;) {
      if (this.stopped) return [];
      const mark = this.d.source.mark();
      // A take from an agent declared down (sent before it died, delivered after) waits out its time empty-handed.
      const tasks = this.draining || this.isGone(agentId) ? [] : await this.collect(agentId, registered, wanted, req.max);
      // Declared down while this take waited (its agent died mid-request), or this dispatcher is stopping: back to the queue.
      if ((tasks.length && this.gone.has(agentId)) || this.stopped) {
        for (const t of tasks) this.handBack(t.lease);
        return [];
      }
      const left = until - this.now();
      if (tasks.length || left <= 0) return tasks;
      await this.d.source.waitForWork(wanted, left, agentId, mark);
    }
  }

  /**
   * Extend the agent's leases. One it no longer holds answers `held: false`; one that cannot have
   * been its own (another agent's current lease, or a task never leased here) is also a refusal
   * on record. A stale epoch is not: the agent may not have heard yet that the task was reclaimed.
   */
  private collect(agentId: string, registered: readonly string[], wanted: readonly string[], max: number): Promise<LeasedTask[]> {
    const p = this.grants.collect(agentId, registered, wanted, max);
    this.granting.add(p);
    void p.then(
      () => this.granting.delete(p),
      () => this.granting.delete(p),
    );
    return p;
  }

  keepAlive(agentId: string, leases: Lease[]): KeepAliveReply {
    return {
      leases: leases.map((l) => {
        const h = this.heldLeases.get(l);
        if (!h || h.agentId !== agentId || h.epoch !== l.epoch) {
          // Forged: another agent's current lease (an older epoch is a lease reclaimed from this one), or a task never leased here.
          if (h ? h.agentId !== agentId && l.epoch >= h.epoch : !this.heldLeases.knows(l)) {
            this.refuse(agentId, 'keepalive', h ? `task ${l.taskId} is leased to another agent` : `task ${l.taskId} was never leased here`, l);
          }
          return { taskId: l.taskId, held: false, reason: 'reclaimed' as const };
        }
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
    this.heldLeases.forget(h);
    let stored: Completion;
    try {
      stored = await h.run.complete(req.result);
    } finally {
      h.span?.end();
      this.freeSlot(h);
    }
    // A result too large to store is the agent's failure; anything else it finished counts as a success (even if the task ended meanwhile).
    this.outcome(h, stored === 'failed' ? 'agent_error' : 'ok');
    if (stored === 'superseded') throw new LeaseLostError(`Task ${h.task.taskId} was reclaimed, cancelled or timed out; its result was not stored`);
    return this.withNext(agentId, { status: stored === 'stored' ? 'succeeded' : 'failed' }, req.take);
  }

  async fail(agentId: string, req: FailRequest): Promise<OutcomeReply> {
    const h = await this.holder(agentId, req.lease, 'fail');
    this.heldLeases.forget(h);
    const e = req.error;
    this.outcome(h, e.class);
    const failure = { code: e.code, message: e.message, class: e.class, minDelayMs: e.class === 'rate_limited' ? e.retryAfterMs : undefined };
    let status: OutcomeReply['status'];
    try {
      if (!e.retryable) {
        await h.run.fail(failure);
        status = 'failed';
      } else {
        status = budgetExhausted(this.d.retry, h.run.attempt) ? 'dead_lettered' : 'retrying';
        await h.run.retry(failure);
      }
    } finally {
      markSpanError(h.span, e);
      h.span?.end();
      this.freeSlot(h);
    }
    return this.withNext(agentId, { status }, req.take);
  }

  /** The agent is down or left: its leases go back to the queue at once (not after the ack wait); each attempt was lost. */
  agentDown(agentId: string, at: number = this.now()): number {
    this.gone.delete(agentId);
    this.gone.set(agentId, at);
    if (this.gone.size > GONE_MEMORY) this.gone.delete(this.gone.keys().next().value!);
    const mine = this.heldLeases.ofAgent(agentId);
    for (const h of mine) this.release(h, 'reclaimed', () => h.run.handBack(), 'worker_lost');
    this.d.outcomes?.gone(agentId);
    return mine.length;
  }

  /** The agent is up again (it registered): it may be handed work. */
  agentUp(agentId: string): void {
    this.gone.delete(agentId);
  }

  /** Declared down, and not registered since (the registry also tells, should the `up` event have been missed). */
  private isGone(agentId: string): boolean {
    const downAt = this.gone.get(agentId);
    if (downAt === undefined) return false;
    if (this.d.registeredAt(agentId) <= downAt) return true;
    this.gone.delete(agentId);
    return false;
  }

  /** The task ended elsewhere (cancelled): its holder is told to stop and the queue message is settled; a parked one is settled. */
  aborted(taskId: string): void {
    for (const h of this.heldLeases.ofTask(taskId)) this.release(h, 'cancelled', () => h.run.cancelled(), 'cancelled');
    for (const p of this.parked.remove(taskId)) void this.grants.skip(p);
  }

  /**
   * A task handed out before its running record was written turned out to have ended while
   * queued (cancelled, timed out: settled like an abort) or to run elsewhere (its delivery here
   * is stale: the lease ends without touching the message, which another holder has).
   */
  private runningRecordLost(taskId: string, ended: boolean): void {
    if (ended) return this.aborted(taskId);
    for (const h of this.heldLeases.ofTask(taskId)) this.release(h, 'reclaimed', () => undefined);
  }

  /** A lease granted to an agent that went away before it saw it: back to the queue, not an attempt of that agent. */
  private handBack(l: Lease): void {
    const h = this.heldLeases.get(l);
    if (h) this.release(h, 'reclaimed', () => h.run.handBack());
  }

  /** The lease's holder, or a refusal (recorded as a security event) that says why. */
  private async holder(agentId: string, l: Lease, verb: string): Promise<Held> {
    const h = this.heldLeases.get(l);
    if (h && h.agentId === agentId && h.epoch === l.epoch) return h;
    // This agent holds the task under another epoch (a guessed or stale one): no need to read the
    // record, which may not name the lease yet (TASK_RUNNING_RECORD_MS).
    if ((h && h.agentId === agentId) || this.heldLeases.endedHere(agentId, l)) {
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

  /**
   * End a lease here: the agent is told (abort notice), the attempt's outcome is recorded, the
   * queue message is settled by `settle`, and after that the tenant's slot goes back.
   */
  private release(h: Held, reason: LeaseEndReason, settle: () => unknown, outcome?: AttemptOutcome): void {
    this.heldLeases.forget(h);
    this.outcome(h, outcome);
    const notice: AbortNotice = { taskId: h.task.taskId, tenantId: h.task.tenantId, epoch: h.epoch, reason };
    this.d.bus.publish(this.d.bus.names.agents.work(h.agentId, 'abort'), notice);
    h.span?.end();
    this.track(
      Promise.resolve()
        .then(settle)
        // Handed back: the queue has it again, so the takes for it look now.
        .then(() => reason === 'reclaimed' && this.d.source.hinted(h.task.capability))
        .catch((err: unknown) => this.d.logger.warn({ err, taskId: h.task.taskId }, 'could not settle a released lease'))
        .finally(() => this.freeSlot(h)),
    );
  }

  private outcome(h: Held, outcome: AttemptOutcome | undefined): void {
    if (outcome) this.d.outcomes?.record(h.agentId, h.capabilities, h.task.capability, outcome);
  }

  /** The lease's slot goes back (once). */
  private freeSlot(h: Held): void {
    if (!h.slot) return;
    h.slot = false;
    this.giveSlotBack(h.task);
  }

  /** Give a slot back; the tenant's parked tasks ask again once tenancy has it. */
  private giveSlotBack(t: SlotTask): void {
    const slots = this.d.slots;
    if (slots) this.track(slots.release(t).then(() => this.parked.slotFreed(t.tenantId)));
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    void p.then(
      () => this.pending.delete(p),
      () => this.pending.delete(p),
    );
    return p;
  }

  /**
   * Deadlines (the task times out; its agent is told), leases not kept alive (the server
   * redelivers the message; the attempt counts as timed out: its agent is up but let it go),
   * slot renewals, and parked messages kept alive (those past their deadline settled).
   */
  private async sweep(): Promise<void> {
    const now = this.now();
    for (const h of this.heldLeases.all()) {
      if (now >= h.deadline) this.release(h, 'timed_out', () => h.run.timeOut(), 'timeout');
      else if (now >= h.expiresAt) {
        this.heldLeases.forget(h);
        this.outcome(h, 'timeout');
        h.span?.end();
        this.freeSlot(h);
      } else if (h.slot && now >= h.slotRenewAt) {
        this.d.slots!.renew(h.task);
        h.slotRenewAt = now + this.d.slots!.renewEveryMs;
      }
    }
    if (this.parked.size) for (const p of this.parked.sweep()) void this.grants.skip(p);
  }

  private refuse(agentId: string, verb: string, reason: string, l?: Lease): void {
    this.d.securityEvent({ type: 'agent_refused', transport: 'nats', route: `agents.${verb}`, agentId, tenantId: l?.tenantId, reason: reason.slice(0, 128) });
  }
}
