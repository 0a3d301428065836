/**
 * `runAgents`: one agent process in the fleet. It registers (again when asked), beats from a
 * thread of its own, long-polls `take` for as many tasks as it has free slots, runs each with
 * the agent that accepts it, keeps the leases alive, reports the outcome with the next `take`
 * folded in, and drains gracefully on stop. Everything goes over the public protocol
 * (protocol.ts); nothing here knows the control plane's code.
 */
import { hostname } from 'node:os';
import type { ConnectionOptions, Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/nats-core';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { withCreds } from './nats-creds';
import type { AbortReason, Agent, AgentTask, Logger, TaskContext } from './agent';
import { CANNOT_HANDLE_CODE, RESULT_INVALID_CODE, SHUTDOWN_CODE, sdkFailure, toFailure } from './errors';
import { type Heartbeater, type HeartbeatState, MainThreadHeartbeat, ThreadHeartbeat, threadConnectionOptions } from './heartbeat';
import {
  AGENT_SESSION_HEADER,
  type AbortNotice,
  type AgentFailure,
  type AgentRegistration,
  type AgentSubjects,
  agentIdProblem,
  agentSubjects,
  DEFAULT_PREFIX,
  type Deregistration,
  ERROR_CODE_HEADER,
  ERROR_MESSAGE_HEADER,
  type KeepAliveReply,
  type LeasedTask,
  type LeaseVerb,
  MAX_PROGRESS_BYTES,
  MAX_TAKE,
  MAX_TAKE_WAIT_MS,
  type OutcomeReply,
  RefusalCodes,
  type RegisterReply,
  type ServiceErrorBody,
  type TakeReply,
  type TaskOutcome,
  type TakeRequest,
} from './protocol';
import { AgentRouter } from './routing';
import { TaskMetrics } from './task-metrics';
import { backoffMs, childLogger, consoleLogger, deferred, describe, pause } from './util';

export const SDK_VERSION = '0.1.0';

export interface RunAgentsOptions {
  /** Where the fleet's NATS is: connection options (the SDK connects, with endless reconnects) or a connection you own. */
  nats: ConnectionOptions | NatsConnection;
  /** The fleet's subject prefix. Default `sb`. */
  prefix?: string;
  /** This process's agent id (1-64 of A-Z a-z 0-9 _ -). Default: host name and a random suffix. */
  agentId?: string;
  /** An API key with the `agent` scope, sent on `register` as `Authorization: Bearer <credentials>`. */
  credentials?: string;
  /**
   * The agent's NATS credentials: the text of a `.creds` file (`POST /v1/nats/credentials` with
   * role `agent`). Used on the SDK's connection and its heartbeat thread's, with the private inbox
   * prefix they allow. Only with `nats` as connection options.
   */
  natsCreds?: string;
  agents: readonly Agent<any, any>[];
  /** Tasks run at once (the registration's maxConcurrency). Default 16. */
  concurrency?: number;
  /** Heartbeat period, 100-60000 ms. Default 1000. */
  heartbeatMs?: number;
  logger?: Logger;
  /** Stop gracefully on SIGTERM and SIGINT. Default true. */
  handleSignals?: boolean;
  /** On stop, how long running tasks may take to finish. Default 10 000 ms. */
  shutdownGraceMs?: number;
  /** The `take` long-poll, 100-30 000 ms. Default 5000. */
  takeWaitMs?: number;
  /** How long to wait for a reply to any other request. Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** Registered as the agent's version. Default `agent-sdk/<version>`. */
  version?: string;
  labels?: Record<string, string>;
  /**
   * Beat from a worker thread with its own connection (default true), so a handler that blocks
   * the event loop does not get the agent declared down. false: beat from the main thread.
   */
  heartbeatThread?: boolean;
  /**
   * Connection options for the heartbeat thread, when they cannot be copied from `nats` (an
   * authenticator function, or a connection passed in that was made with one). Plain data only.
   */
  heartbeatNats?: ConnectionOptions;
  /**
   * Heartbeats stop when the main event loop has not turned for this long: the agent is hung, not
   * busy, and should be declared down (its tasks go to others). Thread heartbeats only. Default
   * 30 000 ms; 0 never stops them.
   */
  stallMs?: number;
  /** How often the agent's task metrics go to the collector (`metrics.<agentId>`). Default 5000 ms; 0 sends none. */
  metricsMs?: number;
  /** Called once per task attempt that ended here, for the host's own metrics or logs. Must not throw. */
  onTaskEnd?: (end: TaskEnd) => void;
}

/** A task attempt as it ended at this agent. */
export interface TaskEnd {
  taskId: string;
  tenantId: string;
  capability: string;
  /** The agent that ran it (undefined when none accepted it). */
  agent?: string;
  outcome: TaskOutcome;
  /** From the lease's grant to the end, seconds. */
  seconds: number;
}

export interface Runner {
  readonly agentId: string;
  /** Resolves once the agent is registered the first time (rejects if stopped before). */
  readonly ready: Promise<void>;
  /** Resolves once the runner has stopped. */
  readonly done: Promise<void>;
  /** Tasks whose handler is running. */
  readonly inFlight: number;
  /** Where heartbeats come from (undefined until registered). */
  readonly heartbeatMode: 'thread' | 'main' | undefined;
  /** Graceful drain: stop taking, let running tasks finish within the grace, deregister, close. */
  stop(): Promise<void>;
}

/** A refusal or error reply from the control plane. */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(
    /** The status from `Nats-Service-Error-Code` (HTTP-like: 400, 401, 409, ...). */
    readonly status: string,
    /** The protocol's error code (AGENT.LEASE_LOST, ...). */
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

const isNoResponders = (err: unknown): boolean => {
  const e = err as { isNoResponders?: () => boolean; name?: string; cause?: { name?: string } } | undefined;
  return (typeof e?.isNoResponders === 'function' && e.isNoResponders()) || e?.name === 'NoRespondersError' || e?.cause?.name === 'NoRespondersError';
};

type Outcome = { result: unknown } | { error: AgentFailure };

interface Running {
  key: string;
  task: LeasedTask;
  controller: AbortController;
  deadlineTimer?: NodeJS.Timeout;
  /** Set once an outcome was sent (or will never be: the lease ended). */
  reported: boolean;
  settled?: Promise<void>;
  startedAt: number;
  agent?: string;
  /** Set once the attempt's outcome was counted. */
  counted?: boolean;
}

const enc = new TextEncoder();
/** A `complete`/`fail` reply's status, as the attempt's outcome. */
const STATUS_OUTCOME: Record<string, TaskOutcome> = { succeeded: 'succeeded', failed: 'failed', retrying: 'retried', dead_lettered: 'dead_lettered' };
const dec = new TextDecoder();

function defaultAgentId(): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${host || 'agent'}-${Math.random().toString(36).slice(2, 10)}`;
}

function intOption(name: string, v: number | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`runAgents: ${name} must be a whole number from ${min} to ${max} (got ${v})`);
  return v;
}

/** Start running `agents` in this process. Resolves once connected; registration continues in the background (`runner.ready`). */
export async function runAgents(opts: RunAgentsOptions): Promise<Runner> {
  const runner = new AgentRunner(opts);
  await runner.start();
  return runner;
}

class AgentRunner implements Runner {
  readonly agentId: string;
  private readonly prefix: string;
  private readonly s: AgentSubjects;
  private readonly router: AgentRouter;
  private readonly log: Logger;
  private readonly concurrency: number;
  private readonly heartbeatMs: number;
  private readonly graceMs: number;
  private readonly stallMs: number;
  private readonly metricsMs: number;
  private readonly taskMetrics = new TaskMetrics();
  private metricsTimer?: NodeJS.Timeout;
  private readonly takeWaitMs: number;
  private readonly requestTimeoutMs: number;
  private readonly startedAt = new Date().toISOString();

  private nc!: NatsConnection;
  private ownsConnection = false;
  private readonly subs: Subscription[] = [];
  private session?: string;
  /** The lease length the control plane told us, or the shortest we saw on a task. */
  private leaseMs?: number;
  private leaseMsEstimate?: number;

  /** Tasks whose handler has not settled: each holds a slot. */
  private readonly running = new Map<string, Running>();
  /** Leases held (kept alive): running tasks and those whose outcome is on its way. */
  private readonly leases = new Map<string, Running>();
  /** Slots promised to requests that may hand out tasks (take, complete/fail with take). */
  private reserved = 0;

  private registeredOnce = false;
  private registering?: Promise<void>;
  private notCapableStreak = 0;
  private readonly readyD = deferred<void>();
  private readonly doneD = deferred<void>();
  private heartbeater?: Heartbeater;
  private heartbeatStarting?: Promise<void>;
  private readonly hbState: HeartbeatState;
  private takeLoop?: Promise<void>;
  private wakeTakeLoop?: () => void;
  private keepaliveTimer?: NodeJS.Timeout;
  private keepaliveRunning?: Promise<void>;

  private stopping = false;
  private stopPromise?: Promise<void>;
  /** Aborted on stop: cuts every backoff pause short. */
  private readonly stopCtl = new AbortController();
  private readonly signalHandlers: Array<[NodeJS.Signals, () => void]> = [];

  constructor(private readonly opts: RunAgentsOptions) {
    if (!opts || !opts.nats) throw new TypeError('runAgents: `nats` (connection options or a connection) is required');
    if (!Array.isArray(opts.agents) || opts.agents.length === 0) throw new TypeError('runAgents: `agents` must list at least one agent (defineAgent)');
    this.agentId = opts.agentId ?? defaultAgentId();
    const problem = agentIdProblem(this.agentId);
    if (problem) throw new TypeError(`runAgents: ${problem}`);
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(this.prefix)) throw new TypeError(`runAgents: prefix ${JSON.stringify(this.prefix)} must be NATS subject tokens`);
    this.concurrency = intOption('concurrency', opts.concurrency, 16, 1, 100_000);
    this.heartbeatMs = intOption('heartbeatMs', opts.heartbeatMs, 1_000, 100, 60_000);
    this.graceMs = intOption('shutdownGraceMs', opts.shutdownGraceMs, 10_000, 0, 24 * 3600_000);
    this.takeWaitMs = intOption('takeWaitMs', opts.takeWaitMs, 5_000, 100, MAX_TAKE_WAIT_MS);
    this.requestTimeoutMs = intOption('requestTimeoutMs', opts.requestTimeoutMs, 10_000, 100, 600_000);
    this.stallMs = intOption('stallMs', opts.stallMs, 30_000, 0, 24 * 3600_000);
    this.metricsMs = intOption('metricsMs', opts.metricsMs, 5_000, 0, 3600_000);
    this.s = agentSubjects(this.prefix, this.agentId);
    this.router = new AgentRouter(opts.agents);
    this.log = childLogger(opts.logger ?? consoleLogger, { agentId: this.agentId });
    this.hbState = { status: 'ready', inFlight: 0, capacity: this.concurrency };
    // `ready` may be left unawaited: its rejection (stopped before registering) must not be unhandled.
    this.readyD.promise.catch(() => undefined);
  }

  get ready(): Promise<void> {
    return this.readyD.promise;
  }
  get done(): Promise<void> {
    return this.doneD.promise;
  }
  get inFlight(): number {
    return this.running.size;
  }
  get heartbeatMode(): 'thread' | 'main' | undefined {
    return this.heartbeater?.mode;
  }

  // ---- lifecycle --------------------------------------------------------------------------

  async start(): Promise<void> {
    const given = this.opts.nats;
    if (typeof (given as NatsConnection).publish === 'function') this.nc = given as NatsConnection;
    else {
      const o = withCreds(given as ConnectionOptions, this.opts.natsCreds);
      // No async stack traces by default: nats.js would build an Error per request to keep one (measurable per task).
      this.nc = await connect({ name: this.agentId, waitOnFirstConnect: true, noAsyncTraces: true, ...o, maxReconnectAttempts: o.maxReconnectAttempts ?? -1 });
      this.ownsConnection = true;
    }
    void this.watchStatus();
    this.subs.push(this.nc.subscribe(this.s.abort, { callback: (err, msg) => (err ? undefined : this.onAbortNotice(msg)) }));
    this.subs.push(
      this.nc.subscribe(this.s.reregister, {
        callback: (err) => {
          if (err || this.stopping) return;
          this.log.info('the collector asked this agent to register again');
          void this.register();
        },
      }),
    );
    if (this.opts.handleSignals !== false) {
      for (const sig of ['SIGTERM', 'SIGINT'] as const) {
        const handler = () => {
          this.log.info(`${sig}: draining`);
          void this.stop().then(() => {
            // Nobody else handles the signal: end the process the way the signal would have.
            if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
          });
        };
        process.once(sig, handler);
        this.signalHandlers.push([sig, handler]);
      }
    }
    void this.register().then(() => this.afterFirstRegistration());
  }

  stop(): Promise<void> {
    this.stopPromise ??= this.drain().then(
      () => this.doneD.resolve(),
      (err: unknown) => {
        this.log.error('stop failed', { err: describe(err) });
        this.doneD.resolve();
      },
    );
    return this.stopPromise;
  }

  private async drain(): Promise<void> {
    this.stopping = true;
    this.stopCtl.abort();
    this.wake();
    for (const [sig, h] of this.signalHandlers) process.removeListener(sig, h);
    // No-op once ready resolved.
    this.readyD.reject(new Error('the runner stopped before it was ready'));
    this.hbState.status = 'draining';
    this.heartbeater?.update({ status: 'draining' }, true);

    const graceCtl = new AbortController();
    try {
      await this.finishWork(graceCtl.signal);
    } finally {
      graceCtl.abort();
    }
    clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    clearInterval(this.metricsTimer);
    if (this.registeredOnce) this.sendMetrics();

    // Beats stop (their connection drained) before the deregistration goes out, so none arrives after it.
    await this.heartbeatStarting?.catch(() => undefined);
    await this.heartbeater?.stop().catch(() => undefined);
    if (this.registeredOnce && !this.nc.isClosed()) {
      const d: Deregistration = { agentId: this.agentId, reason: 'shutdown' };
      try {
        this.nc.publish(this.s.deregister, enc.encode(JSON.stringify(d)), { headers: this.headers() });
      } catch (err) {
        this.log.warn('could not publish the deregistration', { err: describe(err) });
      }
    }
    for (const sub of this.subs) sub.unsubscribe();
    if (this.nc.isClosed()) return;
    if (this.ownsConnection) await this.nc.drain();
    else await this.nc.flush();
    this.log.info('stopped');
  }

  /** Stopping: let what runs finish within the grace; then abort it and fail it retryably (so it is retried at once, not after its lease). */
  private async finishWork(cancelGrace: AbortSignal): Promise<void> {
    const graceOver = pause(this.graceMs, cancelGrace);
    let graceEnded = false;
    void graceOver.then(() => (graceEnded = true));
    // A take under way may still hand out tasks: they are ours, so they run too (within the grace).
    await Promise.race([this.takeLoop ?? Promise.resolve(), graceOver]);
    while (!graceEnded && (this.running.size || this.leases.size)) {
      const all = new Set([...this.running.values(), ...this.leases.values()]);
      await Promise.race([Promise.all([...all].map((r) => r.settled)), graceOver]);
    }
    if (this.running.size || this.leases.size) {
      const left = [...new Set([...this.running.values(), ...this.leases.values()])];
      this.log.warn(`grace period over with ${left.length} task(s) unfinished: aborting them, failing them retryably`, { taskIds: left.map((r) => r.task.taskId) });
      const reports: Promise<void>[] = [];
      for (const r of left) {
        const held = this.leases.get(r.key) === r;
        this.abort(r, 'shutdown');
        if (held && !r.reported) {
          r.reported = true;
          reports.push(this.report(r, { error: sdkFailure(SHUTDOWN_CODE, 'The agent stopped before the task finished', true) }));
        }
      }
      await Promise.race([Promise.all(reports), pause(this.requestTimeoutMs, cancelGrace)]);
    }
  }

  private async watchStatus(): Promise<void> {
    try {
      for await (const s of this.nc.status()) {
        if (s.type === 'disconnect') this.log.warn('disconnected from NATS; reconnecting');
        else if (s.type === 'reconnect') this.log.info('reconnected to NATS');
      }
    } catch {
      // the iterator ends with the connection
    }
  }

  // ---- registration and heartbeats --------------------------------------------------------

  private registration(): AgentRegistration {
    return {
      agentId: this.agentId,
      capabilities: this.router.capabilities,
      version: (this.opts.version ?? `agent-sdk/${SDK_VERSION}`).slice(0, 64),
      maxConcurrency: this.concurrency,
      host: hostname().slice(0, 253) || 'unknown',
      labels: this.opts.labels ?? {},
      heartbeatIntervalMs: this.heartbeatMs,
      startedAt: this.startedAt,
    };
  }

  /** Register (again), retrying with backoff until it succeeds or the runner stops. Concurrent calls share one attempt. */
  private register(): Promise<void> {
    this.registering ??= this.registerUntilDone().finally(() => (this.registering = undefined));
    return this.registering;
  }

  private async registerUntilDone(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        const auth = this.opts.credentials ? { Authorization: `Bearer ${this.opts.credentials}` } : undefined;
        const reply = await this.request<RegisterReply>(this.s.register, this.registration(), this.requestTimeoutMs, auth);
        this.applyRegistration(reply);
        return;
      } catch (err) {
        if (attempt === 1 || attempt % 10 === 0) this.log.warn(`registration failed (attempt ${attempt}); retrying`, { err: describe(err) });
        await pause(backoffMs(attempt, 200, 10_000), this.stopCtl.signal);
      }
    }
  }

  private applyRegistration(reply: RegisterReply | undefined): void {
    if (reply && typeof reply.session === 'string' && reply.session) {
      this.session = reply.session;
      this.hbState.session = reply.session;
      this.heartbeater?.update({ session: reply.session });
    }
    if (typeof reply?.leaseMs === 'number' && reply.leaseMs > 0) this.leaseMs = reply.leaseMs;
    if (reply?.agentId !== undefined && reply.agentId !== this.agentId) this.log.warn('registration answered for another agent id', { answered: reply.agentId });
    this.log.info(this.registeredOnce ? 'registered again' : 'registered', { capabilities: this.router.capabilities, session: this.session ? 'yes' : 'no' });
    this.notCapableStreak = 0;
    if (!this.registeredOnce && !this.stopping) {
      this.registeredOnce = true;
      const interval = typeof reply?.heartbeatIntervalMs === 'number' && reply.heartbeatIntervalMs >= 100 ? reply.heartbeatIntervalMs : this.heartbeatMs;
      this.heartbeatStarting = this.startHeartbeat(interval);
      if (this.metricsMs > 0) {
        this.metricsTimer = setInterval(() => this.sendMetrics(), this.metricsMs);
        this.metricsTimer.unref();
      }
    }
  }

  /** Registered and beating: take work. */
  private async afterFirstRegistration(): Promise<void> {
    if (this.stopping || !this.registeredOnce) return;
    await this.heartbeatStarting;
    if (this.stopping) return;
    this.readyD.resolve();
    this.takeLoop = this.runTakeLoop();
  }

  private async startHeartbeat(intervalMs: number): Promise<void> {
    const cfg = {
      agentId: this.agentId,
      subject: this.s.heartbeat,
      intervalMs,
      stallMs: this.stallMs,
      state: this.hbState,
      logger: this.log,
      onLost: (err: Error) => {
        if (this.stopping) return;
        this.log.error('the heartbeat thread died; beating from the main thread', { err: describe(err) });
        this.heartbeater = new MainThreadHeartbeat({ ...cfg, onLost: undefined }, this.nc);
        void this.heartbeater.start();
      },
    };
    if (this.opts.heartbeatThread !== false) {
      const options = this.opts.heartbeatNats
        ? { ...this.opts.heartbeatNats, name: `${this.agentId}-heartbeat`, maxReconnectAttempts: -1 }
        : threadConnectionOptions(this.opts.nats, this.agentId);
      if (options) {
        const thread = new ThreadHeartbeat(cfg, options, this.opts.heartbeatNats ? undefined : this.opts.natsCreds);
        try {
          await thread.start();
          this.heartbeater = thread;
          if (this.stopping) thread.update({ status: 'draining' }, true);
          return;
        } catch (err) {
          this.log.warn('the heartbeat thread could not start; beating from the main thread (a blocked event loop delays beats)', { err: describe(err) });
          await thread.stop().catch(() => undefined);
        }
      } else {
        this.log.warn('the NATS options cannot be copied to the heartbeat thread (authenticator?): pass `heartbeatNats`; beating from the main thread');
      }
    }
    const main = new MainThreadHeartbeat(cfg, this.nc);
    await main.start();
    this.heartbeater = main;
  }

  // ---- taking work ------------------------------------------------------------------------

  private free(): number {
    return Math.max(0, Math.min(MAX_TAKE, this.concurrency - this.running.size - this.reserved));
  }

  /** Something changed that may free slots (a task settled, a reservation ended, stop). */
  private wake(): void {
    const w = this.wakeTakeLoop;
    this.wakeTakeLoop = undefined;
    w?.();
  }

  private async runTakeLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      const max = this.free();
      if (max <= 0) {
        await new Promise<void>((resolve) => (this.wakeTakeLoop = resolve));
        continue;
      }
      this.reserved += max;
      let tasks: LeasedTask[] = [];
      try {
        const req: TakeRequest = { max, waitMs: this.takeWaitMs };
        const reply = await this.request<TakeReply>(this.s.take, req, this.takeWaitMs + this.requestTimeoutMs);
        tasks = Array.isArray(reply?.tasks) ? reply.tasks : [];
        failures = 0;
        this.notCapableStreak = 0;
      } catch (err) {
        failures++;
        this.onTakeError(err, failures);
      } finally {
        this.reserved -= max;
      }
      this.startAll(tasks);
      if (failures) await pause(backoffMs(failures, 100, 5_000), this.stopCtl.signal);
    }
  }

  private onTakeError(err: unknown, failures: number): void {
    const loud = failures === 1 || failures % 20 === 0;
    if (err instanceof ServiceError) {
      if (err.code === RefusalCodes.session) {
        this.log.warn('take refused: session not accepted; registering again');
        void this.register();
        return;
      }
      if (err.code === RefusalCodes.notCapable) {
        // Right after registering, the dispatcher may not have read the registration yet; if it persists, register again.
        if (++this.notCapableStreak % 10 === 0) {
          this.log.warn('take refused as not registered; registering again', { err: err.message });
          void this.register();
        }
        return;
      }
    }
    if (isNoResponders(err)) {
      if (loud) this.log.warn('no dispatcher answers take (is a gateway running?); retrying');
      return;
    }
    if (loud) this.log.warn('take failed; retrying', { err: describe(err), failures });
  }

  private startAll(tasks: LeasedTask[]): void {
    for (const t of tasks) {
      try {
        this.startTask(t);
      } catch (err) {
        this.log.error('could not start a task', { taskId: (t as { taskId?: unknown })?.taskId, err: describe(err) });
      }
    }
    if (tasks.length) this.scheduleKeepalive();
  }

  private startTask(t: LeasedTask): void {
    if (!t || typeof t.taskId !== 'string' || typeof t.tenantId !== 'string' || typeof t.dispatcher !== 'string' || typeof t.lease?.epoch !== 'number') {
      throw new Error('malformed leased task');
    }
    const key = `${t.tenantId}.${t.taskId}`;
    const prev = this.leases.get(key);
    if (prev) {
      if (prev.task.lease.epoch === t.lease.epoch) return; // the same lease twice
      this.abort(prev, 'lost_lease'); // a newer lease of the same task supersedes ours
    }
    const expires = Date.parse(t.leaseExpiresAt);
    if (Number.isFinite(expires)) {
      const est = Math.max(1_000, expires - Date.now());
      this.leaseMsEstimate = this.leaseMsEstimate === undefined ? est : Math.min(this.leaseMsEstimate, est);
    }
    const r: Running = { key, task: t, controller: new AbortController(), reported: false, startedAt: performance.now() };
    this.running.set(key, r);
    this.leases.set(key, r);
    const deadline = Date.parse(t.deadlineAt);
    if (Number.isFinite(deadline)) {
      r.deadlineTimer = setTimeout(() => this.abort(r, 'timed_out'), Math.min(2 ** 31 - 1, Math.max(0, deadline - Date.now())));
      r.deadlineTimer.unref();
    }
    this.setInFlight();
    r.settled = this.execute(r).catch((err: unknown) => {
      // execute handles every outcome; this is a bug of ours, not the handler's.
      this.log.error('internal error running a task', { taskId: t.taskId, err: describe(err) });
      if (this.running.get(key) === r) this.running.delete(key);
      this.dropLease(r);
      this.setInFlight();
      this.wake();
    });
  }

  private setInFlight(): void {
    this.hbState.inFlight = this.running.size;
    this.heartbeater?.update({ inFlight: this.running.size });
  }

  // ---- running a task ---------------------------------------------------------------------

  private async execute(r: Running): Promise<void> {
    // Handlers start after every task of this batch is registered (a synchronous handler may block).
    await Promise.resolve();
    const t = r.task;
    const task: AgentTask = {
      taskId: t.taskId,
      tenantId: t.tenantId,
      capability: t.capability,
      priority: t.priority,
      input: t.input,
      metadata: t.metadata ?? {},
      idempotencyKey: t.idempotencyKey ?? t.taskId,
      deliveryCount: t.deliveryCount,
      deadlineAt: t.deadlineAt,
      ...(t.traceparent ? { traceparent: t.traceparent } : {}),
    };
    const route = this.router.route(task, (agent, err) => this.log.warn(`canHandle of ${agent.name} threw; treated as a refusal`, { taskId: t.taskId, err: describe(err) }));
    let outcome: Outcome;
    if (!route.agent) {
      this.log.warn('no agent accepts this task; failing it', { taskId: t.taskId, capability: t.capability });
      outcome = { error: sdkFailure(CANNOT_HANDLE_CODE, route.reason, false) };
    } else {
      r.agent = route.agent.name;
      const logger = childLogger(this.log, { taskId: t.taskId, tenantId: t.tenantId, capability: t.capability, agent: route.agent.name });
      const ctx: TaskContext = {
        progress: (value) => this.progress(r, value, logger),
        signal: r.controller.signal,
        lease: Object.freeze({ ...t.lease }),
        idempotencyKey: task.idempotencyKey,
        deliveryCount: t.deliveryCount,
        logger,
      };
      try {
        outcome = { result: await route.agent.handle(task, ctx) };
      } catch (err) {
        outcome = { error: toFailure(err) };
      }
    }
    clearTimeout(r.deadlineTimer);
    if (this.running.get(r.key) === r) this.running.delete(r.key);
    this.setInFlight();
    if (r.reported || r.controller.signal.aborted) {
      // The lease ended away from us (cancelled, timed out, lost) or the shutdown already failed it: nothing to report.
      if (!r.reported) this.log.info(`task ended (${String(r.controller.signal.reason)}); its outcome is not reported`, { taskId: t.taskId });
      const why = r.controller.signal.reason as AbortReason;
      if (why !== 'shutdown') this.ended(r, why === 'cancelled' ? 'cancelled' : why === 'timed_out' ? 'timed_out' : 'superseded');
      r.reported = true;
      this.dropLease(r);
      this.wake();
      return;
    }
    r.reported = true;
    await this.report(r, outcome);
  }

  private progress(r: Running, value: unknown, logger: Logger): void {
    if (r.reported || r.controller.signal.aborted || this.nc.isClosed()) return;
    let data: Uint8Array;
    try {
      data = enc.encode(JSON.stringify({ lease: r.task.lease, progress: value ?? null }));
    } catch (err) {
      logger.warn('progress is not JSON; dropped', { err: describe(err) });
      return;
    }
    if (data.length > MAX_PROGRESS_BYTES) {
      logger.warn(`progress larger than ${MAX_PROGRESS_BYTES} bytes; dropped`, { bytes: data.length });
      return;
    }
    try {
      this.nc.publish(this.s.onLease('progress', r.task.dispatcher), data, { headers: this.headers() });
    } catch (err) {
      logger.warn('progress not sent', { err: describe(err) });
    }
  }

  /** Send the outcome (complete or fail), asking for the next tasks when slots are free. */
  private async report(r: Running, outcome: Outcome): Promise<void> {
    const t = r.task;
    const out: { verb: LeaseVerb; body: Record<string, unknown> } =
      'result' in outcome ? { verb: 'complete', body: { lease: t.lease, result: outcome.result ?? null } } : { verb: 'fail', body: { lease: t.lease, error: outcome.error } };
    const failWith = (f: AgentFailure) => {
      out.verb = 'fail';
      out.body = { lease: t.lease, error: f };
    };
    // Slots free now are asked for with the outcome: a busy agent needs one round trip per task.
    const max = this.stopping ? 0 : this.free();
    this.reserved += max;
    try {
      for (let attempt = 1; ; attempt++) {
        let data = this.encodeOutcome(max > 0 ? { ...out.body, take: { max, waitMs: 0 } satisfies TakeRequest } : out.body);
        if (typeof data === 'string') {
          failWith(sdkFailure(RESULT_INVALID_CODE, data, false));
          data = this.encodeOutcome(out.body) as Uint8Array;
        }
        try {
          const reply = await this.requestRaw<OutcomeReply>(this.s.onLease(out.verb, t.dispatcher), data, this.requestTimeoutMs);
          if (out.verb === 'fail') this.log.info(`task failed (${(out.body.error as AgentFailure).code}): ${reply?.status ?? 'no status'}`, { taskId: t.taskId });
          this.ended(r, STATUS_OUTCOME[reply?.status ?? ''] ?? (out.verb === 'complete' ? 'succeeded' : 'failed'));
          if (Array.isArray(reply?.tasks)) this.startAll(reply.tasks);
          return;
        } catch (err) {
          if (err instanceof ServiceError) {
            if (err.code === RefusalCodes.leaseLost || err.code === RefusalCodes.notLeased) {
              this.log.info(`the lease ended before the outcome arrived (${err.code}); it was not stored`, { taskId: t.taskId });
              this.ended(r, 'superseded');
              return;
            }
            if (err.code === RefusalCodes.session && attempt < 3) {
              await this.register();
              continue;
            }
            if (out.verb === 'complete' && (err.status === '400' || err.status === '413')) {
              // The result itself was refused (too large, not acceptable): the task cannot succeed this way.
              failWith(sdkFailure(RESULT_INVALID_CODE, `The result was refused: ${err.message}`, false));
              continue;
            }
            this.log.error(`${out.verb} refused`, { taskId: t.taskId, code: err.code, err: err.message });
            return;
          }
          if (isNoResponders(err)) {
            this.log.warn('the dispatcher that leased the task is gone; the lease is lost', { taskId: t.taskId, dispatcher: t.dispatcher });
            this.ended(r, 'superseded');
            return;
          }
          if (attempt >= 4 || this.nc.isClosed()) {
            this.log.error(`${out.verb} not delivered; the control plane retries the task when its lease expires`, { taskId: t.taskId, err: describe(err) });
            return;
          }
          this.log.warn(`${out.verb} not answered; retrying`, { taskId: t.taskId, err: describe(err), attempt });
          await pause(backoffMs(attempt, 200, 2_000));
        }
      }
    } finally {
      this.reserved -= max;
      this.dropLease(r);
      this.wake();
    }
  }

  /** The encoded body, or why it cannot be sent. */
  private encodeOutcome(body: Record<string, unknown>): Uint8Array | string {
    let data: Uint8Array;
    try {
      data = enc.encode(JSON.stringify(body));
    } catch (err) {
      return `The result is not JSON: ${describe(err)}`;
    }
    const limit = this.nc.info?.max_payload;
    if (limit && data.length > limit) return `The result is ${data.length} bytes, larger than a message may be (${limit}); return a reference to it instead`;
    return data;
  }

  /** Count the attempt's outcome once (metrics, the host's hook). */
  private ended(r: Running, outcome: TaskOutcome): void {
    if (r.counted) return;
    r.counted = true;
    const seconds = (performance.now() - r.startedAt) / 1000;
    this.taskMetrics.record(r.task.capability, outcome, seconds);
    try {
      this.opts.onTaskEnd?.({ taskId: r.task.taskId, tenantId: r.task.tenantId, capability: r.task.capability, agent: r.agent, outcome, seconds });
    } catch (err) {
      this.log.warn('onTaskEnd threw', { err: describe(err) });
    }
  }

  private sendMetrics(): void {
    if (!this.session || this.nc.isClosed() || this.nc.isDraining()) return;
    try {
      const batch = this.taskMetrics.batch(this.agentId, { inFlight: this.running.size, capacity: this.concurrency });
      this.nc.publish(this.s.metrics, enc.encode(JSON.stringify(batch)), { headers: this.headers() });
    } catch (err) {
      this.log.warn('metrics not sent', { err: describe(err) });
    }
  }

  private dropLease(r: Running): void {
    if (this.leases.get(r.key) === r) this.leases.delete(r.key);
  }

  /** Abort a task's signal (once). Unless the runner is shutting down, the lease is gone: stop keeping it alive. */
  private abort(r: Running, reason: AbortReason): void {
    if (r.controller.signal.aborted) return;
    if (!r.reported) this.log.info(`task aborted: ${reason}`, { taskId: r.task.taskId });
    r.controller.abort(reason);
    clearTimeout(r.deadlineTimer);
    if (reason !== 'shutdown') this.dropLease(r);
  }

  private onAbortNotice(msg: Msg): void {
    const n = this.decode<AbortNotice>(msg.data);
    if (!n || typeof n.taskId !== 'string' || typeof n.tenantId !== 'string') return;
    const r = this.leases.get(`${n.tenantId}.${n.taskId}`);
    if (!r || (typeof n.epoch === 'number' && n.epoch !== r.task.lease.epoch)) return;
    this.abort(r, n.reason === 'cancelled' ? 'cancelled' : n.reason === 'timed_out' ? 'timed_out' : 'lost_lease');
  }

  // ---- keep-alives ------------------------------------------------------------------------

  private scheduleKeepalive(): void {
    if (this.keepaliveTimer || this.keepaliveRunning || this.nc.isClosed()) return;
    const leaseMs = this.leaseMs ?? this.leaseMsEstimate ?? 30_000;
    this.keepaliveTimer = setTimeout(() => {
      this.keepaliveTimer = undefined;
      this.keepaliveRunning = this.keepAlive().finally(() => {
        this.keepaliveRunning = undefined;
        if (this.leases.size) this.scheduleKeepalive();
      });
    }, Math.max(100, Math.floor(leaseMs / 3)));
    this.keepaliveTimer.unref();
  }

  /** One batched keep-alive per dispatcher holding our leases. */
  private async keepAlive(): Promise<void> {
    const byDispatcher = new Map<string, Running[]>();
    for (const r of this.leases.values()) {
      if (this.stopping && r.controller.signal.aborted) continue;
      let list = byDispatcher.get(r.task.dispatcher);
      if (!list) byDispatcher.set(r.task.dispatcher, (list = []));
      list.push(r);
    }
    await Promise.all(
      [...byDispatcher].map(async ([dispatcher, all]) => {
        for (let i = 0; i < all.length; i += 1024) {
          const batch = all.slice(i, i + 1024);
          try {
            const reply = await this.request<KeepAliveReply>(this.s.onLease('keepalive', dispatcher), { leases: batch.map((r) => r.task.lease) }, this.requestTimeoutMs);
            const held = new Map((reply?.leases ?? []).map((l) => [l.taskId, l]));
            for (const r of batch) {
              const l = held.get(r.task.taskId);
              if (l && !l.held && !r.reported) {
                this.log.info(`lease lost (${l.reason ?? 'unknown'})`, { taskId: r.task.taskId });
                this.abort(r, 'lost_lease');
              }
            }
          } catch (err) {
            if (isNoResponders(err)) {
              this.log.warn('the dispatcher holding these leases is gone; they are lost', { dispatcher, tasks: batch.length });
              for (const r of batch) if (!r.reported) this.abort(r, 'lost_lease');
            } else if (err instanceof ServiceError && err.code === RefusalCodes.session) {
              void this.register();
            } else this.log.warn('keep-alive failed', { dispatcher, err: describe(err) });
          }
        }
      }),
    );
  }

  // ---- requests ---------------------------------------------------------------------------

  private headers(extra?: Record<string, string>): MsgHdrs | undefined {
    if (!this.session && !extra) return undefined;
    const h = natsHeaders();
    if (this.session) h.set(AGENT_SESSION_HEADER, this.session);
    for (const [k, v] of Object.entries(extra ?? {})) h.set(k, v);
    return h;
  }

  private request<T>(subject: string, body: unknown, timeoutMs: number, extraHeaders?: Record<string, string>): Promise<T> {
    return this.requestRaw<T>(subject, enc.encode(JSON.stringify(body)), timeoutMs, extraHeaders);
  }

  /** A request; an error reply becomes a ServiceError; transport errors (timeout, no responders) are thrown as nats.js throws them. */
  private async requestRaw<T>(subject: string, data: Uint8Array, timeoutMs: number, extraHeaders?: Record<string, string>): Promise<T> {
    const msg = await this.nc.request(subject, data, { timeout: timeoutMs, headers: this.headers(extraHeaders) });
    const status = msg.headers?.get(ERROR_CODE_HEADER);
    const body = this.decode<unknown>(msg.data);
    if (status) {
      const e = (body as Partial<ServiceErrorBody> | undefined)?.error;
      throw new ServiceError(status, typeof e?.code === 'string' ? e.code : `STATUS_${status}`, e?.message ?? msg.headers?.get(ERROR_MESSAGE_HEADER) ?? 'error', e?.retryable === true);
    }
    return body as T;
  }

  private decode<T>(data: Uint8Array): T | undefined {
    if (!data?.length) return undefined;
    try {
      return JSON.parse(dec.decode(data)) as T;
    } catch {
      return undefined;
    }
  }
}
