// The Switchboard services as child processes of the launcher: one Node
// process per app, output labelled, stop = SIGTERM then SIGKILL after a grace.
// agent-worker is restarted with a backoff if it crashes after it was ready, or
// when recovery asks (local-runtime.ts); other services are only reported.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, type ExitInfo } from '../../libs/testing/src/local-servers';
import { describe } from './http-ready';
import type { Output } from './output';

export interface ServiceSpec {
  name: string;
  port: number;
  /** Where its health and metrics are when not on `port` (the gateway's OPS_PORT). */
  opsPort?: number;
  /**
   * 1 starts (and becomes ready) before 2, 2 before 3. Workers come last: through the agents'
   * NATS account a take to a gateway not yet up gets no "no responders", it waits out its timeout.
   */
  group: 1 | 2 | 3;
  restartOnCrash?: boolean;
}

export const SERVICES: readonly ServiceSpec[] = [
  { name: 'auth', port: 8081, group: 1 },
  { name: 'tenancy', port: 8082, group: 1 },
  { name: 'gateway', port: 8080, opsPort: 8090, group: 2 },
  { name: 'metrics-collector', port: 8083, group: 1 },
  { name: 'alerting', port: 8084, group: 2 },
  { name: 'recovery', port: 8085, group: 2 },
  { name: 'agent-worker', port: 8086, group: 3, restartOnCrash: true },
];

export function entryFor(appsDir: string, name: string): string {
  return join(appsDir, name, 'src', 'main.js');
}

export function missingEntries(appsDir: string): string[] {
  return SERVICES.map((s) => entryFor(appsDir, s.name)).filter((p) => !existsSync(p));
}

export interface ServiceContext {
  appsDir: string;
  cwd: string;
  natsUrl: string;
  redisUrl: string;
  adminKey: string;
  /** Auth's bootstrap agent key, and the workers' key to register with. */
  agentKey: string;
  /** Auth's key-encryption key setting (SB_KEK_FILE, or SB_KEK): auth's alone. */
  kekEnv: Record<string, string>;
  out: Output;
  /** NATS credentials per service (the launcher's nats-server runs in operator mode); absent: no NATS auth. */
  nats?: { credsFile(service: string): string; authSecretsFile: string };
  /** A crash-looping service hit its restart budget: it is left stopped and this is called (raise an alert). */
  onGiveUp?: (service: string, crashes: number, windowMs: number) => void;
}

const BACKOFF_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000];
/** A run this long resets the backoff. */
const HEALTHY_RUN_MS = 60_000;
/** Restart budget: at most this many restarts per window, then stop and alert instead of crash-looping. */
export const RESTART_BUDGET = 5;
export const RESTART_WINDOW_MS = 10 * 60_000;

export class ServiceRunner {
  private proc: ManagedProcess | undefined;
  private stopping = false;
  private supervised = false;
  private crashes = 0;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private restarts: number[] = [];

  constructor(
    readonly spec: ServiceSpec,
    private readonly ctx: ServiceContext,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  /** Exit of the current process (for readiness checks). */
  get exited(): Promise<ExitInfo> {
    if (!this.proc) throw new Error(`${this.name} was not started`);
    return this.proc.exited;
  }

  start(): void {
    const { spec, ctx } = this;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NATS_URL: ctx.natsUrl,
      REDIS_URL: ctx.redisUrl,
      HTTP_PORT: String(spec.port),
    };
    if (spec.opsPort !== undefined) env.OPS_PORT = String(spec.opsPort);
    // Each key goes to the service that needs it, and nowhere else.
    delete env.SB_BOOTSTRAP_ADMIN_KEY;
    delete env.SB_BOOTSTRAP_AGENT_KEY;
    delete env.SB_AGENT_KEY;
    delete env.SB_KEK;
    delete env.SB_KEK_FILE;
    delete env.NATS_CREDS;
    delete env.SB_NATS_AUTH_FILE;
    if (ctx.nats) {
      env.NATS_CREDS = ctx.nats.credsFile(spec.name);
      if (spec.name === 'auth') env.SB_NATS_AUTH_FILE = ctx.nats.authSecretsFile;
    }
    if (spec.name === 'auth') Object.assign(env, { SB_BOOTSTRAP_ADMIN_KEY: ctx.adminKey, SB_BOOTSTRAP_AGENT_KEY: ctx.agentKey }, ctx.kekEnv);
    if (spec.name === 'agent-worker') env.SB_AGENT_KEY = ctx.agentKey;
    // Recovery restarts a worker that stopped heartbeating through this launcher (local-runtime.ts).
    if (spec.name === 'recovery') env.RECOVERY_RUNTIME ??= 'local';

    const proc = new ManagedProcess({
      name: spec.name,
      command: process.execPath,
      args: ['--enable-source-maps', entryFor(ctx.appsDir, spec.name)],
      cwd: ctx.cwd,
      env,
      detached: true,
      onOutput: (line, stream) => ctx.out.line(spec.name, line, stream),
    });
    this.proc = proc;
    this.startedAt = Date.now();
    void proc.exited.then((exit) => this.onExit(proc, exit));
  }

  /** From now on a crash is handled (reported, or restarted for agent-worker). */
  supervise(): void {
    this.supervised = true;
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const proc = this.proc;
    if (!proc || proc.exit) return;
    const exit = await proc.stop(graceMs);
    this.ctx.out.info(`${this.name} stopped (${describe(exit)})`);
  }

  /** pid of the running process, if any. */
  get pid(): number | undefined {
    const proc = this.proc;
    return proc && !proc.exit ? proc.pid : undefined;
  }

  /**
   * Recovery asked for this process to be restarted (it stopped heartbeating: paused, hung or
   * partitioned). SIGKILL it; the supervised exit path starts a new one with its backoff and budget.
   */
  forceRestart(): boolean {
    if (this.stopping || !this.supervised || !this.spec.restartOnCrash || this.pid === undefined) return false;
    this.proc?.kill('SIGKILL');
    return true;
  }

  kill(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    this.proc?.kill('SIGKILL');
  }

  private onExit(proc: ManagedProcess, exit: ExitInfo): void {
    if (this.stopping || proc !== this.proc || !this.supervised) return;
    const { out } = this.ctx;
    if (!this.spec.restartOnCrash) {
      out.error(`${this.name} (pid ${proc.pid}) exited unexpectedly (${describe(exit)}); it is not restarted — restart npm start`);
      return;
    }
    const now = Date.now();
    this.restarts = this.restarts.filter((at) => now - at < RESTART_WINDOW_MS);
    if (this.restarts.length >= RESTART_BUDGET) {
      out.error(`${this.name} (pid ${proc.pid}) exited unexpectedly (${describe(exit)}); ${this.restarts.length} restarts in ${RESTART_WINDOW_MS / 60_000} min: giving up (restart npm start after fixing it)`);
      this.ctx.onGiveUp?.(this.name, this.restarts.length, RESTART_WINDOW_MS);
      return;
    }
    this.restarts.push(now);
    if (now - this.startedAt >= HEALTHY_RUN_MS) this.crashes = 0;
    const delay = BACKOFF_MS[Math.min(this.crashes, BACKOFF_MS.length - 1)];
    this.crashes += 1;
    out.error(`${this.name} (pid ${proc.pid}) exited unexpectedly (${describe(exit)}); restarting in ${delay / 1000} s (crash #${this.crashes})`);
    this.restartTimer = setTimeout(() => {
      if (!this.stopping) this.start();
    }, delay);
  }
}
