/**
 * A whole Switchboard fleet for one e2e suite, on the test run's real NATS and Redis, under
 * a prefix of its own: gateway (with its dispatcher), auth, tenancy and the metrics-collector
 * in-process (so tests start fast), agent workers either in-process or as real child processes
 * that a test can SIGKILL. Workers are agents like any other: they register with the fleet's
 * agent key and take tasks over the agent protocol.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { authSecretsOf, platformAdminCreds, serviceCreds } from '@sb/messaging';
import type { PlatformService } from '@sb/contracts';
import { generateApiKey } from '@sb/contracts';
import { inboxPrefixOfCreds } from '@switchboard/agent-sdk';
import { createLogger, createServiceApp, opsUrlOf } from '@sb/observability';
import { type SecureNats, startSecureNatsServer, testEnv, uniquePrefix } from '@sb/testing';
import { authModule } from '../../../apps/auth/src/auth.module';
import { sealNatsAuthSecrets } from '../../../apps/auth/src/nats/nats-auth-file';
import { kekFromBytes } from '../../../apps/auth/src/secrets/sealed-box';
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
  /** The gateway's ops port (health, metrics): OPS_PORT, never the API port. */
  opsUrl: string;
  /** A platform-account connection with no subject limits (what tests observe the bus with). */
  nc: NatsConnection;
  /** The fleet's own nats-server, in operator mode (JWT auth, accounts) as deployed; absent when opts.env sets NATS_URL. */
  secureNats?: SecureNats;
  /** NATS credentials (`.creds` text) for the fleet's agents: role agent, any id (POST /v1/nats/credentials). */
  agentCreds?: string;
  /** The same, as a file (NATS_CREDS of an agent process). */
  agentCredsFile?: string;
  /** A connection as an agent (the fleet's agent credentials, private inbox), as the SDK makes one. */
  connectAgent(): Promise<NatsConnection>;
  /** A `.creds` file from POST /v1/nats/credentials with this API key and body. */
  natsCreds(apiKey: string, body?: Record<string, unknown>): Promise<{ creds: string; inboxPrefix: string }>;
  env: Env;
  /** `env` with a platform service's own NATS user (for suites that start more services on the fleet). */
  envFor(service: PlatformService): Promise<Env>;
  /** Auth's own settings beyond `env` (its NATS user, its KEK): to start another auth replica on the fleet. */
  authEnv: Env;
  apps: INestApplication[];
  startWorker(extra?: Env): Promise<INestApplication>;
  /** Another gateway replica on the same fleet (its own HTTP port). */
  startGateway(extra?: Env): Promise<{ app: INestApplication; httpUrl: string; opsUrl: string }>;
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
  // The gateway serves health and metrics on an ops port of its own, as deployed.
  const config = { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: level, SHUTDOWN_GRACE_MS: 5_000, OPS_PORT: service === 'gateway' ? 0 : undefined };
  const { app } = await createServiceApp({ service, config, module: () => module(logger), bus: service !== 'agent-worker' });
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
  /** Run on this operator-mode server instead of a new one (the fleet leaves it running on stop): a server restored from a backup. */
  secureNats?: SecureNats;
  /** Start as an existing deployment (its prefix, auth's KEK, its bootstrap keys) instead of a new one: a fleet restored from a backup. */
  identity?: { prefix: string; kek: string; adminKey: string; agentKey: string };
}

/**
 * Fast retries, and a collector that judges liveness quickly: what most suites want. Suites send
 * hundreds of refused requests from one address on purpose: the pre-authentication limit gets a
 * burst that never runs out here (security-flood.e2e-spec.ts tests it with its own settings).
 */
const GATEWAY_DEFAULTS: Env = { TASK_BACKOFF_BASE_MS: '200', TASK_BACKOFF_MAX_MS: '1000', PREAUTH_BURST: '1000000' };
const COLLECTOR_DEFAULTS: Env = { LIVENESS_SWEEP_MS: '100' };

/** POST /v1/nats/credentials: the `.creds` text and the inbox prefix the client must use. */
async function fetchNatsCreds(httpUrl: string, apiKey: string, body: Record<string, unknown> = {}): Promise<{ creds: string; inboxPrefix: string }> {
  const res = await fetch(`${httpUrl}/v1/nats/credentials`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST /v1/nats/credentials answered ${res.status}: ${text}`);
  return { creds: text, inboxPrefix: res.headers.get('sb-inbox-prefix') ?? '' };
}

export async function startFleet(opts: FleetOptions = {}): Promise<Fleet> {
  const prefix = opts.identity?.prefix ?? uniquePrefix();
  // Each fleet runs on a nats-server of its own in operator mode, every service with its own
  // least-privilege user, as deployed (unless the suite brings its own NATS).
  const secureNats = opts.secureNats ?? (opts.env?.NATS_URL ? undefined : await startSecureNatsServer(mkdtempSync(join(tmpdir(), 'sb-fleet-nats-'))));
  const natsUrl = secureNats?.server.url ?? testEnv().natsUrl;
  const { redisUrl } = testEnv();
  // Auth's key-encryption key (auth alone gets it): the suite's secrets at rest are sealed, as deployed.
  const kek = opts.identity?.kek ?? randomBytes(32).toString('base64');
  const serviceEnv = async (service: PlatformService): Promise<Env> => {
    if (!secureNats) return {};
    const file = join(secureNats.server.dataDir, '..', `${service}.creds`);
    writeFileSync(file, (await serviceCreds(secureNats.security, prefix, service)).creds, { mode: 0o600 });
    if (service !== 'auth') return { NATS_CREDS: file };
    // Sealed with auth's KEK, as deployed: only auth can read the NATS signing seeds.
    const secrets = join(secureNats.server.dataDir, '..', 'nats-auth.json');
    writeFileSync(secrets, sealNatsAuthSecrets(kekFromBytes(Buffer.from(kek, 'base64')), authSecretsOf(secureNats.security)), { mode: 0o600 });
    return { NATS_CREDS: file, SB_NATS_AUTH_FILE: secrets };
  };
  const adminKey = opts.identity?.adminKey ?? generateApiKey();
  const agentKey = opts.identity?.agentKey ?? generateApiKey();
  const env: Env = { NATS_URL: natsUrl, REDIS_URL: redisUrl, SB_PREFIX: prefix, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', LOG_LEVEL, ...opts.env };
  const apps: INestApplication[] = [];
  const children: WorkerProcess[] = [];
  const adminAuth = secureNats ? { authenticator: credsAuthenticator(new TextEncoder().encode((await platformAdminCreds(secureNats.security, 'e2e-observer')).creds)) } : {};
  const nc = await connect({ servers: env.NATS_URL.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 250, ...adminAuth });
  const [gatewayEnv, authEnv, tenancyEnv, collectorEnv] = await Promise.all((['gateway', 'auth', 'tenancy', 'metrics-collector'] as const).map(serviceEnv));

  // A fleet that fails part-way closes what it started (apps, its connection, its own server), so the
  // test fails instead of leaving handles that keep jest from exiting.
  const abandon = async (e: unknown): Promise<never> => {
    for (const app of [...apps].reverse()) await app.close().catch(() => undefined);
    await nc.drain().catch(() => undefined);
    if (!opts.secureNats) await secureNats?.server.destroy().catch(() => undefined);
    throw e;
  };
  const started = await (async () => {
  // tenancy first: auth checks tenants when issuing keys.
  apps.push(await boot('tenancy', (l) => tenancyModule(loadTenancyConfig({ ...env, ...tenancyEnv }), l)));
  apps.push(await boot('auth', (l) => authModule(loadAuthConfig({ ...env, ...authEnv, SB_BOOTSTRAP_ADMIN_KEY: adminKey, SB_BOOTSTRAP_AGENT_KEY: agentKey, SB_KEK: kek }), l)));
  const gateway = await boot('gateway', (l) => gatewayModule(loadGatewayConfig({ ...env, ...gatewayEnv, ...GATEWAY_DEFAULTS, ...opts.gatewayEnv }), l));
  apps.push(gateway);
  const httpUrl = (await gateway.getUrl()).replace('[::1]', '127.0.0.1');
  const opsUrl = opsUrlOf(gateway as NestFastifyApplication)!;
  if (opts.collectorEnv !== false) {
    apps.push(await boot('metrics-collector', (l) => metricsCollectorModule(loadMetricsCollectorConfig({ ...env, ...collectorEnv, ...COLLECTOR_DEFAULTS, ...opts.collectorEnv }), l)));
  }
  let agentCreds: string | undefined;
  let agentCredsEnv: Env = {};
  if (secureNats) {
    agentCreds = (await fetchNatsCreds(httpUrl, adminKey, { role: 'agent' })).creds;
    const file = join(secureNats.server.dataDir, '..', 'agent.creds');
    writeFileSync(file, agentCreds, { mode: 0o600 });
    agentCredsEnv = { NATS_CREDS: file };
  }
  return { gateway, httpUrl, opsUrl, agentCreds, agentCredsEnv };
  })().catch(abandon);
  const { gateway, httpUrl, opsUrl, agentCreds, agentCredsEnv } = started;

  const workerEnv = (extra: Env = {}): Env => ({
    ...env,
    ...agentCredsEnv,
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
    opsUrl,
    nc,
    secureNats,
    agentCreds,
    agentCredsFile: agentCredsEnv.NATS_CREDS,
    natsCreds: (apiKey, body) => fetchNatsCreds(httpUrl, apiKey, body),
    connectAgent: () => connect({ servers: env.NATS_URL.split(','), ...(agentCreds ? { authenticator: credsAuthenticator(new TextEncoder().encode(agentCreds)), inboxPrefix: inboxPrefixOfCreds(agentCreds) } : {}) }),
    env,
    envFor: async (service) => ({ ...env, ...(await serviceEnv(service)) }),
    authEnv: { ...authEnv, SB_KEK: kek },
    apps,
    async startWorker(extra) {
      const app = await boot('agent-worker', (l) => agentWorkerModule(loadWorkerConfig(workerEnv(extra)), l));
      apps.push(app);
      await app.get(AgentHost).ready;
      return app;
    },
    async startGateway(extra) {
      const app = await boot('gateway', (l) => gatewayModule(loadGatewayConfig({ ...env, ...gatewayEnv, ...GATEWAY_DEFAULTS, ...opts.gatewayEnv, ...extra }), l));
      apps.push(app);
      return { app, httpUrl: (await app.getUrl()).replace('[::1]', '127.0.0.1'), opsUrl: opsUrlOf(app as NestFastifyApplication)! };
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
      if (!opts.secureNats) await secureNats?.server.destroy();
    },
  };
  try {
    for (let i = 0; i < (opts.workers ?? 1); i++) await fleet.startWorker();
  } catch (e) {
    await fleet.stop().catch(() => undefined);
    throw e;
  }
  return fleet;
}
