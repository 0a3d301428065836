// `npm start` (node dist/scripts/start.js after `npm run build`): the whole of
// Switchboard on one machine. Uses NATS/Redis at NATS_URL/REDIS_URL or starts
// them with data in .data/, starts every service as its own child process
// (auth, tenancy and the metrics-collector first, so workers register at once), waits for each
// /health/ready, prints where the admin key and the agent key the workers register with are
// kept (never the keys) and a curl example, runs an echo task through the gateway as a demo, then
// keeps running until SIGINT/SIGTERM.
//   --demo-only-exit (or SB_START_EXIT_AFTER_DEMO=1): stop after the demo; exit 0 if it passed, else 1.
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { type ConnectionOptions, credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { DEFAULT_PREFIX, names, type RaiseAlert } from '../libs/contracts/src';
import { isListening } from '../libs/testing/src/local-servers';
import { AdminKey, AgentKey, resolveAdminKey, resolveAgentKey } from './local/admin-key';
import { resolveKek } from './local/kek';
import { loadKek } from '../apps/auth/src/secrets/sealed-box';
import { LauncherConfig, parseLauncherConfig, UsageError } from './local/config';
import { exampleCommand, natsExample, runDemo, runNatsDemo } from './local/demo';
import { waitForHttpReady } from './local/http-ready';
import { ensureInfra, Infra, OneLineError } from './local/infra';
import { ensureNatsSecurity } from './local/nats-security';
import { createOutput, Output, useColor } from './local/output';
import { serveLocalRuntime } from './local/local-runtime';
import { missingEntries, SERVICES, ServiceRunner } from './local/services';

class StopRequested extends Error {}

/** The launcher stopped restarting a crash-looping service: page someone (RaiseAlert on the alerting intake). */
async function raiseGiveUpAlert(natsUrl: string, auth: ConnectionOptions, service: string, crashes: number, windowMs: number, out: Output): Promise<void> {
  try {
    const nc = await connect({ servers: natsUrl, timeout: 2_000, ...auth });
    const alert: RaiseAlert = {
      name: 'RecoveryRestartBudgetExhausted',
      severity: 'critical',
      state: 'firing',
      labels: { service, host: hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 200) },
      annotations: { summary: `${service} crashed ${crashes} times in ${windowMs / 60_000} min; npm start stopped restarting it` },
      source: 'launcher',
      at: new Date().toISOString(),
    };
    nc.publish(names(process.env.SB_PREFIX || DEFAULT_PREFIX).alerts.raise, JSON.stringify(alert));
    await nc.drain();
  } catch (err) {
    out.warn(`could not raise the restart-budget alert: ${(err as Error).message}`);
  }
}

class Launcher {
  private readonly runners: ServiceRunner[] = [];
  private infra: Infra | undefined;
  private infraPending: Promise<Infra> | undefined;
  private stopRequested = false;
  private requestStop: () => void = () => undefined;
  private readonly stopSignal = new Promise<never>((_, reject) => {
    this.requestStop = () => reject(new StopRequested('stop requested'));
  });
  private shutdownDone: Promise<void> | undefined;
  private runtimeNc: NatsConnection | undefined;
  /** The launcher's own NATS user (a platform user) when its nats-server runs in operator mode. */
  private natsAuth: ConnectionOptions = {};

  constructor(
    private readonly cfg: LauncherConfig,
    private readonly out: Output,
  ) {
    this.stopSignal.catch(() => undefined);
  }

  async run(): Promise<number> {
    let keys: { adminKey: AdminKey; agentKey: AgentKey };
    try {
      keys = await this.startEverything();
    } catch (err) {
      if (!(err instanceof StopRequested)) this.report(err);
      await this.shutdown();
      return err instanceof StopRequested ? 0 : 1;
    }

    this.printWelcome(keys.adminKey, keys.agentKey);
    let ok = false;
    try {
      ok = await this.unlessStopped(runDemo(8080, keys.adminKey.key, this.out));
      // The same over NATS, as a tenant's client does it: credentials from the gateway, private inbox.
      if (ok) ok = await this.unlessStopped(runNatsDemo(8080, this.cfg.natsUrl, keys.adminKey.key, process.env.SB_PREFIX || DEFAULT_PREFIX, this.out));
    } catch (err) {
      if (!(err instanceof StopRequested)) throw err;
    }
    if (this.cfg.exitAfterDemo || this.stopRequested) {
      await this.shutdown();
      return this.stopRequested ? 0 : ok ? 0 : 1;
    }

    this.out.info(`Switchboard is running${ok ? '' : ' (but the demo failed, see above)'}; press Ctrl-C to stop`);
    await this.stopSignal.catch(() => undefined);
    await this.shutdown();
    return 0;
  }

  onSignal(signal: NodeJS.Signals): void {
    if (this.stopRequested) {
      this.out.warn(`${signal} again: killing everything now`);
      this.killAll();
      process.exit(1);
    }
    this.stopRequested = true;
    this.out.info(`${signal} received: stopping services (send it again to kill at once)`);
    this.requestStop();
  }

  killAll(): void {
    for (const r of this.runners) r.kill();
    for (const s of this.infra?.started ?? []) s.kill('SIGKILL');
  }

  private async startEverything(): Promise<{ adminKey: AdminKey; agentKey: AgentKey }> {
    const { cfg, out } = this;
    const missing = missingEntries(cfg.appsDir);
    if (missing.length > 0) {
      const what = missing.length === SERVICES.length ? `${relative(cfg.repoRoot, cfg.appsDir) || '.'}/<app>/src/main.js` : missing.map((p) => relative(cfg.repoRoot, p)).join(', ');
      throw new OneLineError(`build output missing (${what}): run \`npm run build\` first`);
    }
    const ports = SERVICES.flatMap((s) => [s.port, s.opsPort].filter((p): p is number => p !== undefined).map((port) => ({ port, name: s.name })));
    const busy = await Promise.all(ports.map((p) => isListening(`http://127.0.0.1:${p.port}`)));
    const taken = ports.filter((_, i) => busy[i]).map((p) => `${p.port} (${p.name})`);
    if (taken.length > 0) {
      throw new OneLineError(`port ${taken.join(', ')} already in use: is another \`npm start\` running? Stop it first`);
    }

    const adminKey = resolveAdminKey(cfg.adminKeyFromEnv, join(cfg.dataDir, 'admin-key'));
    const agentKey = resolveAgentKey(cfg.agentKeyFromEnv, join(cfg.dataDir, 'agent-key'));
    // Auth seals its secrets at rest with this key (made once into .data/kek unless SB_KEK_FILE / SB_KEK is set).
    const kek = resolveKek(process.env, join(cfg.dataDir, 'kek'));
    if (kek.generated) out.info(`auth's key-encryption key generated, saved in ${relative(cfg.repoRoot, kek.file ?? '')} (mode 0600)`);
    if (this.stopRequested) throw new StopRequested('stop requested');
    const security = await ensureNatsSecurity(cfg.dataDir, process.env.SB_PREFIX || DEFAULT_PREFIX, loadKek(kek.env));
    this.infraPending = ensureInfra(cfg.natsUrl, cfg.redisUrl, cfg.dataDir, out, security.serverConf);
    this.infra = await this.unlessStopped(this.infraPending);
    const nats = this.infra.natsSecured ? security : undefined;
    this.natsAuth = nats ? { authenticator: credsAuthenticator(new TextEncoder().encode(security.launcherCreds)) } : {};

    for (const group of [1, 2, 3] as const) {
      const batch = SERVICES.filter((s) => s.group === group).map(
        (spec) =>
          new ServiceRunner(spec, {
            appsDir: cfg.appsDir,
            cwd: cfg.repoRoot,
            natsUrl: cfg.natsUrl,
            redisUrl: cfg.redisUrl,
            adminKey: adminKey.key,
            agentKey: agentKey.key,
            kekEnv: kek.env,
            nats,
            out,
            onGiveUp: (service, crashes, windowMs) => void raiseGiveUpAlert(cfg.natsUrl, this.natsAuth, service, crashes, windowMs, out),
          }),
      );
      out.info(`starting ${batch.map((r) => r.name).join(', ')}`);
      for (const runner of batch) {
        this.runners.push(runner);
        runner.start();
      }
      await this.unlessStopped(
        Promise.all(
          batch.map(async (runner) => {
            // Health is on the ops port where the service has one (the gateway: never on its API port).
            await waitForHttpReady(runner.name, runner.spec.opsPort ?? runner.spec.port, { exited: runner.exited, timeoutMs: cfg.readyTimeoutMs });
            out.info(`${runner.name} ready on :${runner.spec.port}`);
          }),
        ),
      );
    }
    for (const runner of this.runners) runner.supervise();
    await this.serveRuntime();
    return { adminKey, agentKey };
  }

  /** Recovery's local runtime adapter asks here to restart a worker that stopped heartbeating. */
  private async serveRuntime(): Promise<void> {
    try {
      const nc = await connect({ servers: this.cfg.natsUrl, timeout: 2_000, name: 'npm-start-launcher', ...this.natsAuth });
      this.runtimeNc = nc;
      serveLocalRuntime(nc, names(process.env.SB_PREFIX || DEFAULT_PREFIX).runtime.localRestart, this.runners, process.env.WORKER_ID, this.out);
    } catch (err) {
      this.out.warn(`recovery cannot restart workers through the launcher: ${(err as Error).message}`);
    }
  }

  private printWelcome(adminKey: AdminKey, agentKey: AgentKey): void {
    const { out } = this;
    // The keys are never printed (terminal scrollback, CI logs): where each is kept, on every start.
    const sourceOf = { env: 'from', file: 'in', generated: 'generated now, saved in', replaced: 'an older-format key replaced by a new one, saved in' };
    const where = (k: AdminKey, envName: string) => (k.source === 'env' ? `from ${envName}` : `${sourceOf[k.source]} ${relative(this.cfg.repoRoot, k.file ?? '')} (mode 0600)`);
    const read = (k: AdminKey, envName: string) => (k.source === 'env' ? `$${envName}` : `$(cat ${relative(this.cfg.repoRoot, k.file ?? '')})`);
    out.info(out.bold('Switchboard is up.') + ` Gateway: http://localhost:8080 (OpenAPI at /openapi.json; its health and metrics on :8090)`);
    out.info(`Admin key (the platform admin): ${where(adminKey, 'SB_BOOTSTRAP_ADMIN_KEY')}`);
    out.info(`Agent key, for agents to register with as SB_AGENT_KEY (${where(agentKey, 'SB_BOOTSTRAP_AGENT_KEY')})`);
    out.info(`NATS: ${this.cfg.natsUrl}${this.infra?.natsSecured ? ' (operator mode: clients connect with credentials from POST /v1/nats/credentials)' : ''}`);
    out.info('Try it:');
    out.info(`  KEY=${read(adminKey, 'SB_BOOTSTRAP_ADMIN_KEY')}`);
    out.info(`  ${exampleCommand(8080)}`);
    if (this.infra?.natsSecured) for (const line of natsExample(8080, this.cfg.natsUrl)) out.info(`  ${line}`);
  }

  /** Shut down in reverse start order: workers, group 2, group 1, then servers we started. Idempotent. */
  shutdown(): Promise<void> {
    this.shutdownDone ??= (async () => {
      const grace = this.cfg.stopGraceMs;
      await this.runtimeNc?.close().catch(() => undefined);
      // Workers first, so their graceful leave reaches a collector that is still running (no
      // false down on its next start), then the rest of group 2, then group 1.
      const isWorker = (r: ServiceRunner) => r.name === 'agent-worker';
      await Promise.all(this.runners.filter(isWorker).map((r) => r.stop(grace)));
      for (const group of [3, 2, 1] as const) {
        await Promise.all(this.runners.filter((r) => r.spec.group === group && !isWorker(r)).map((r) => r.stop(grace)));
      }
      // A stop requested while NATS/Redis were starting: wait for them, then stop them too.
      const infra = this.infra ?? (await this.infraPending?.catch(() => undefined));
      for (const server of [...(infra?.started ?? [])].reverse()) {
        await server.stop();
        this.out.info(`${server.kind} server (port ${server.port}) stopped`);
      }
    })();
    return this.shutdownDone;
  }

  private unlessStopped<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.stopSignal]);
  }

  private report(err: unknown): void {
    if (err instanceof OneLineError || err instanceof UsageError) this.out.error(err.message);
    else this.out.error(`startup failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function main(): Promise<number> {
  const labels = ['nats', 'redis', ...SERVICES.map((s) => s.name)];
  const out = createOutput(labels, useColor(process.env));
  let cfg: LauncherConfig;
  try {
    cfg = parseLauncherConfig(process.argv.slice(2), process.env, __dirname);
  } catch (err) {
    const help = err instanceof UsageError && err.message.startsWith('usage');
    if (help) out.info(err.message);
    else out.error((err as Error).message);
    return help ? 0 : 1;
  }
  const launcher = new Launcher(cfg, out);
  const fatal = (what: string) => (err: unknown) => {
    out.error(`${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    launcher.killAll();
    process.exit(1);
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled rejection'));
  process.on('SIGINT', () => launcher.onSignal('SIGINT'));
  process.on('SIGTERM', () => launcher.onSignal('SIGTERM'));
  process.on('SIGHUP', () => launcher.onSignal('SIGHUP'));
  return launcher.run();
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[start] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
