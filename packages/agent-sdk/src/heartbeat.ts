/**
 * Heartbeats from a thread of their own: a `node:worker_threads` worker with its own NATS
 * connection beats on its own timer, so a handler that keeps the main event loop busy does not
 * get the agent declared down. The main thread only posts state changes (in flight, draining,
 * session). When the worker cannot connect (options it cannot copy, such as an authenticator
 * function), beats fall back to the main thread, with a warning.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ConnectionOptions, NatsConnection } from '@nats-io/nats-core';
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { Logger } from './agent';
import type { FromThread, HeartbeatState, ThreadData, ToThread } from './heartbeat-thread';

export type { HeartbeatState } from './heartbeat-thread';
import { AGENT_SESSION_HEADER, type Heartbeat } from './protocol';


export interface Heartbeater {
  readonly mode: 'thread' | 'main';
  /** Resolves once beats are going out (the first is sent at once). */
  start(): Promise<void>;
  /** A state change; `beatNow` sends a beat with it at once. */
  update(state: Partial<HeartbeatState>, beatNow?: boolean): void;
  /** Stop beating; resolves once the last beat is flushed. */
  stop(): Promise<void>;
}

export interface HeartbeatConfig {
  agentId: string;
  subject: string;
  intervalMs: number;
  state: HeartbeatState;
  logger: Logger;
  /** Beats stop while the main event loop has not turned for this long (hung, not busy). Thread mode only; 0: never. */
  stallMs?: number;
  /** The beating thread died after it had started (the runner falls back to main-thread beats). */
  onLost?: (err: Error) => void;
}

/** Connection options a worker can be given (no functions): copied by name. */
const COPYABLE = ['servers', 'port', 'user', 'pass', 'token', 'tls', 'timeout', 'pingInterval', 'maxPingOut', 'reconnectTimeWait', 'reconnectJitter', 'reconnectJitterTLS', 'noRandomize', 'ignoreClusterUpdates', 'debug'] as const;

/**
 * Options for the heartbeat thread's connection, taken from the user's options or from a live
 * connection's; undefined when they hold what cannot cross threads (an authenticator).
 */
export function threadConnectionOptions(source: ConnectionOptions | NatsConnection, agentId: string): ConnectionOptions | undefined {
  const live = typeof (source as NatsConnection).publish === 'function';
  const opts = (live ? (source as unknown as { options?: ConnectionOptions }).options : (source as ConnectionOptions)) ?? undefined;
  if (!opts) return undefined;
  if (!live && opts.authenticator !== undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of COPYABLE) {
    const v = (opts as Record<string, unknown>)[k];
    if (v !== undefined && typeof v !== 'function') out[k] = v;
  }
  try {
    structuredClone(out);
  } catch {
    return undefined;
  }
  return { ...out, name: `${agentId}-heartbeat`, maxReconnectAttempts: -1 } as ConnectionOptions;
}

const THREAD_FILE = 'heartbeat-thread.js';

/**
 * The thread's built code: beside this file in the package's build; from sources (this repo's
 * tests), the repository build's copy (`dist/<same path>`). Undefined when neither exists: then
 * beats come from the main thread.
 */
export function heartbeatThreadFile(dir: string = __dirname): string | undefined {
  const beside = join(dir, THREAD_FILE);
  if (existsSync(beside)) return beside;
  for (let root = dirname(dir); root !== dirname(root); root = dirname(root)) {
    const built = join(root, 'dist', relative(root, dir), THREAD_FILE);
    if (existsSync(built)) return built;
  }
  return undefined;
}

export class ThreadHeartbeat implements Heartbeater {
  readonly mode = 'thread' as const;
  private worker?: Worker;
  private exited?: Promise<void>;
  private stopping = false;
  private ticker?: NodeJS.Timeout;
  private shared?: Float64Array;

  constructor(
    private readonly cfg: HeartbeatConfig,
    private readonly options: ConnectionOptions,
    /** NATS credentials (`.creds` text): the thread builds its authenticator from them (functions cannot cross threads). */
    private readonly creds?: string,
  ) {}

  start(): Promise<void> {
    const file = heartbeatThreadFile();
    if (!file) return Promise.reject(new Error(`${THREAD_FILE} is not built (run the package's build)`));
    const mainTick = new SharedArrayBuffer(16);
    const tick = new Float64Array(mainTick);
    tick[0] = Date.now();
    tick[1] = this.cfg.state.inFlight;
    this.shared = tick;
    // The main loop proves it turns; the thread stops beating when it stops (a hung agent must be declared down).
    this.ticker = setInterval(() => (tick[0] = Date.now()), Math.max(50, Math.min(1_000, this.cfg.intervalMs)));
    this.ticker.unref();
    const data: ThreadData = { options: this.options, agentId: this.cfg.agentId, subject: this.cfg.subject, intervalMs: this.cfg.intervalMs, sessionHeader: AGENT_SESSION_HEADER, state: this.cfg.state, mainTick, stallMs: this.cfg.stallMs, creds: this.creds };
    const worker = new Worker(file, { name: `sb-agent-heartbeat-${this.cfg.agentId}`, workerData: data });
    this.worker = worker;
    // The runner's own connection keeps the process alive while it runs; this thread must not outlive it.
    worker.unref();
    this.exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    return new Promise<void>((resolve, reject) => {
      let started = false;
      let gone = false;
      const lost = (err: Error) => {
        if (gone) return;
        gone = true;
        if (!started) return reject(err);
        if (this.stopping) return;
        this.worker = undefined;
        this.cfg.onLost?.(err);
      };
      worker.on('message', (m: FromThread) => {
        if (m.type === 'ready') {
          started = true;
          resolve();
        } else if (m.type === 'failed') reject(new Error(`heartbeat thread could not connect: ${m.message}`));
        else if (m.type === 'warn') this.cfg.logger.warn(m.message, { agentId: this.cfg.agentId });
      });
      worker.once('error', (err) => lost(err));
      worker.once('exit', (code) => lost(new Error(`heartbeat thread exited (${code})`)));
    });
  }

  update(state: Partial<HeartbeatState>, beatNow = false): void {
    Object.assign(this.cfg.state, state);
    // In flight changes with every task: shared memory, not a message (the hot path).
    if (this.shared && state.inFlight !== undefined) this.shared[1] = state.inFlight;
    const { inFlight: _perTask, ...rest } = state;
    if (beatNow || Object.keys(rest).length) this.worker?.postMessage({ type: 'state', state: rest, beat: beatNow } satisfies ToThread);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.ticker);
    const w = this.worker;
    if (!w) return;
    this.worker = undefined;
    w.postMessage({ type: 'stop' } satisfies ToThread);
    // The worker drains its connection (flushing the last beats), then exits on its own.
    const stopped = await Promise.race([this.exited!.then(() => true), new Promise<boolean>((r) => setTimeout(r, 5_000, false).unref())]);
    if (!stopped) await w.terminate();
  }
}

/** Beats from the main thread's timer (the fallback): a blocked event loop delays them. */
export class MainThreadHeartbeat implements Heartbeater {
  readonly mode = 'main' as const;
  private seq = 0;
  private timer?: NodeJS.Timeout;
  private readonly enc = new TextEncoder();

  constructor(
    private readonly cfg: HeartbeatConfig,
    private readonly nc: NatsConnection,
  ) {}

  async start(): Promise<void> {
    this.beat();
    this.timer = setInterval(() => this.beat(), this.cfg.intervalMs);
    this.timer.unref();
  }

  update(state: Partial<HeartbeatState>, beatNow = false): void {
    Object.assign(this.cfg.state, state);
    if (beatNow && this.timer) this.beat();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private beat(): void {
    if (this.nc.isClosed() || this.nc.isDraining()) return;
    const s = this.cfg.state;
    const hb: Heartbeat = { agentId: this.cfg.agentId, seq: this.seq++, sentAt: Date.now(), status: s.status, inFlight: s.inFlight, capacity: s.capacity, memoryBytes: process.memoryUsage.rss() };
    const h = natsHeaders();
    if (s.session) h.set(AGENT_SESSION_HEADER, s.session);
    try {
      this.nc.publish(this.cfg.subject, this.enc.encode(JSON.stringify(hb)), { headers: h });
    } catch (err) {
      this.cfg.logger.warn('heartbeat not sent', { agentId: this.cfg.agentId, err: String(err) });
    }
  }
}
