/**
 * A whole Switchboard fleet for one e2e suite, on the test run's real NATS and Redis, under
 * a prefix of its own: gateway (with its dispatcher), auth, tenancy and the metrics-collector
 * in-process (so tests start fast), agent workers either in-process or as real child processes
 * that a test can SIGKILL. Workers are agents like any other: they register with the fleet's
 * agent key and take tasks over the agent protocol.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { createLogger, createServiceApp } from '@sb/observability';
import { testEnv, uniquePrefix } from '@sb/testing';
import { authModule } from '../../../apps/auth/src/auth.module';
import { loadAuthConfig } from '../../../apps/auth/src/config';
import { agentWorkerModule } from '../../../apps/agent-worker/src/agent-worker.module';
import { loadWorkerConfig } from '../../../apps/agent-worker/src/config';
import { AgentHost } from '../../../apps/agent-worker/src/host/agent-host.service';
import { loadMetricsCollectorConfig } from '../../../apps/metrics-collector/src/config';
import { metricsCollectorModule } from '../../../apps/metrics-collector/src/metrics-collector.module';
import { loadGatewayConfig } from '../../../apps/gateway/src/config';
import { gatewayModule } from '../../../apps/gateway/src/gateway.module';
import { loadTenancyConfig } from '../../../apps/tenancy/src/config';
import { tenancyModule } from '../../../apps/tenancy/src/tenancy.module';

export type Env = Record<string, string>;

export interface Fleet {
  prefix: string;
  adminKey: string;
  /** An API key with the `agent` scope (auth's bootstrap agent key): what agents register with. */
  agentKey: string;
  httpUrl: string;
  nc: NatsConnection;
  env: Env;
  apps: INestApplication[];
  startWorker(extra?: Env): Promise<INestApplication>;
  /** Another gateway replica on the same fleet (its own HTTP port). */
  startGateway(extra?: Env): Promise<{ app: INestApplication; httpUrl: string }>;
  spawnWorker(extra?: Env): Promise<WorkerProcess>;
  stop(): Promise<void>;
}

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const REPO = join(__dirname, '../../..');
const LOG_LEVEL = 'warn';

async function boot(service: string, module: (logger: ReturnType<typeof createLogger>) => DynamicModule, level = LOG_LEVEL): Promise<INestApplication> {
  const logger = createLogger(service, level);
  const { app } = await createServiceApp({ service, config: { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: level, SHUTDOWN_GRACE_MS: 5_000 }, module: () => module(logger), bus: service !== 'agent-worker' });
  await app.listen(0, '127.0.0.1');
  return app;
}

export interface FleetOptions {
  workers?: number;
  workerEnv?: Env;
  gatewayEnv?: Env;
  /** The metrics-collector's settings; false: no collector (agents cannot register). */
  collectorEnv?: Env | false;
  /** Overrides for every service, e.g. a test-owned REDIS_URL. */
  env?: Env;
}

/** Fast retries, and a collector that judges liveness quickly: what most suites want. */
const GATEWAY_DEFAULTS: Env = { TASK_BACKOFF_BASE_MS: '200', TASK_BACKOFF_MAX_MS: '1000' };
const COLLECTOR_DEFAULTS: Env = { LIVENESS_SWEEP_MS: '100' };

export async function startFleet(opts: FleetOptions = {}): Promise<Fleet> {
  const { natsUrl, redisUrl } = testEnv();
  const prefix = uniquePrefix();
  const adminKey = `sb_admin_test_${prefix}_${Math.random().toString(36).slice(2)}`;
  const agentKey = `sb_agent_test_${prefix}_${Math.random().toString(36).slice(2)}`;
  const env: Env = { NATS_URL: natsUrl, REDIS_URL: redisUrl, SB_PREFIX: prefix, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', LOG_LEVEL, ...opts.env };
  const apps: INestApplication[] = [];
  const children: WorkerProcess[] = [];
  const nc = await connect({ servers: env.NATS_URL, maxReconnectAttempts: -1, reconnectTimeWait: 250 });

  // tenancy first: auth checks tenants when issuing keys.
  apps.push(await boot('tenancy', (l) => tenancyModule(loadTenancyConfig(env), l)));
  apps.push(await boot('auth', (l) => authModule(loadAuthConfig({ ...env, SB_BOOTSTRAP_ADMIN_KEY: adminKey, SB_BOOTSTRAP_AGENT_KEY: agentKey }), l)));
  const gateway = await boot('gateway', (l) => gatewayModule(loadGatewayConfig({ ...env, ...GATEWAY_DEFAULTS, ...opts.gatewayEnv }), l));
  apps.push(gateway);
  const httpUrl = (await gateway.getUrl()).replace('[::1]', '127.0.0.1');
  if (opts.collectorEnv !== false) {
    apps.push(await boot('metrics-collector', (l) => metricsCollectorModule(loadMetricsCollectorConfig({ ...env, ...COLLECTOR_DEFAULTS, ...opts.collectorEnv }), l)));
  }

  const workerEnv = (extra: Env = {}): Env => ({
    ...env,
    SB_AGENT_KEY: agentKey,
    WORKER_TEST_AGENTS: 'true',
    WORKER_AGENTS: 'echo,code-analysis,sleep,flaky',
    ...opts.workerEnv,
    ...extra,
  });

  const fleet: Fleet = {
    prefix,
    adminKey,
    agentKey,
    httpUrl,
    nc,
    env,
    apps,
    async startWorker(extra) {
      const app = await boot('agent-worker', (l) => agentWorkerModule(loadWorkerConfig(workerEnv(extra)), l));
      apps.push(app);
      await app.get(AgentHost).ready;
      return app;
    },
    async startGateway(extra) {
      const app = await boot('gateway', (l) => gatewayModule(loadGatewayConfig({ ...env, ...GATEWAY_DEFAULTS, ...opts.gatewayEnv, ...extra }), l));
      apps.push(app);
      return { app, httpUrl: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
    },
    async spawnWorker(extra) {
      const main = join(REPO, 'dist/apps/agent-worker/src/main.js');
      if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" first (npm test does)`);
      let out = '';
      const child = spawn(process.execPath, [main], { env: { ...process.env, ...workerEnv({ LOG_LEVEL: 'info', ...extra }) }, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const ready = new Promise<void>((resolve, reject) => {
        const check = () => (out.includes('worker taking tasks') ? resolve() : undefined);
        child.stdout!.on('data', check);
        child.once('exit', (code) => reject(new Error(`worker exited early (${code}): ${out.slice(-2000)}`)));
      });
      await ready;
      const wp: WorkerProcess = {
        child,
        output: () => out,
        kill: async (signal = 'SIGTERM') => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise<void>((r) => child.once('exit', () => r()));
          child.kill(signal);
          await exited;
        },
      };
      children.push(wp);
      return wp;
    },
    async stop() {
      await Promise.all(children.map((c) => c.kill('SIGKILL')));
      for (const app of [...apps].reverse()) await app.close().catch(() => undefined);
      await nc.drain().catch(() => undefined);
    },
  };
  for (let i = 0; i < (opts.workers ?? 1); i++) await fleet.startWorker();
  return fleet;
}
