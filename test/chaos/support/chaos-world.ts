/**
 * A whole fleet on test-owned servers that a chaos scenario may kill and restart: its own
 * nats-server (file storage) and redis-server, gateway/auth/tenancy and the metrics
 * collector in-process (they reconnect by themselves), recovery replicas and agent workers as
 * child processes (SIGKILL / SIGSTOP-able). `startChaosWorldOn` runs the same fleet on NATS the
 * scenario brings and owns (a cluster: libs/testing startNatsCluster).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { INestApplication } from '@nestjs/common';
import { names } from '@sb/contracts';
import { createLogger, createServiceApp } from '@sb/observability';
import { type ServerHandle, startNatsServer, startRedisServer } from '@sb/testing';
import { loadWorkerConfig } from '../../../apps/agent-worker/src/config';
import { loadGatewayConfig } from '../../../apps/gateway/src/config';
import { loadMetricsCollectorConfig } from '../../../apps/metrics-collector/src/config';
import { metricsCollectorModule } from '../../../apps/metrics-collector/src/metrics-collector.module';
import { loadRecoveryConfig } from '../../../apps/recovery/src/config';
import { type Fleet, startFleet } from '../../e2e/support/fleet';
import { tenantOnPlan, keyFor } from '../../e2e/support/tenancy';
import { type ChaosTimings, chaosTimings } from './chaos-timings';

const REPO = join(__dirname, '../../..');
/** Built services to spawn: dist/ (what `npm run build` makes), or SB_DIST_DIR (a private build, resolved against this repo's node_modules). */
const DIST = process.env.SB_DIST_DIR ?? join(REPO, 'dist');

export interface ChildService {
  id: string;
  child: ChildProcess;
  output: () => string;
  alive: () => boolean;
  signal(sig: NodeJS.Signals): void;
  kill(sig?: NodeJS.Signals): Promise<void>;
}

/** A chaos fleet on NATS it was given (the scenario owns the servers). */
export interface ChaosFleetWorld {
  /** NATS_URL of every service: one server, or a cluster's comma-separated list. */
  natsUrl: string;
  redis: ServerHandle;
  fleet: Fleet;
  prefix: string;
  tenantId: string;
  key: string;
  /** The test's own connection (reconnects across nats-server restarts). */
  nc: NatsConnection;
  workers: ChildService[];
  recoveries: ChildService[];
  /** The liveness, lease, reclaim and queue timings the services run with (scenarios derive their deadlines from them). */
  timings: ChaosTimings;
  spawnWorker(env?: Record<string, string>): Promise<ChildService>;
  spawnRecovery(env?: Record<string, string>): Promise<ChildService>;
  /** The replica id holding the recovery leader lease, if any. */
  leaderId(): Promise<string | null>;
  stop(): Promise<void>;
}

/** A chaos fleet on a nats-server of its own (file storage), which the scenario may restart. */
export interface ChaosWorld extends ChaosFleetWorld {
  nats: ServerHandle;
}

export interface ChaosWorldOptions {
  workers: number;
  recoveries: number;
  workerEnv?: Record<string, string>;
  recoveryEnv?: Record<string, string>;
  /** Settings for every service (in-process and spawned), e.g. JETSTREAM_REPLICAS. */
  env?: Record<string, string>;
}

let seq = 0;

function spawnService(app: string, id: string, env: Record<string, string>, readyLine: string): Promise<ChildService> {
  const main = join(DIST, `apps/${app}/src/main.js`);
  if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" first (npm test and npm run chaos do)`);
  let out = '';
  const child = spawn(process.execPath, [main], { env: { ...process.env, NODE_PATH: join(REPO, 'node_modules'), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const onData = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const svc: ChildService = {
    id,
    child,
    output: () => out,
    alive: () => child.exitCode === null && child.signalCode === null,
    signal: (sig) => void child.kill(sig),
    kill: async (sig = 'SIGKILL') => {
      if (!svc.alive()) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill(sig);
      await exited;
    },
  };
  return new Promise<ChildService>((resolve, reject) => {
    const check = () => (out.includes(readyLine) ? resolve(svc) : undefined);
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`${app} ${id} exited early (${code}): ${out.slice(-2000)}`)));
  });
}

export async function startChaosWorld(opts: ChaosWorldOptions): Promise<ChaosWorld> {
  const nats = await startNatsServer();
  const world = await startChaosWorldOn(nats.url, opts).catch(async (e: unknown) => {
    await nats.destroy();
    throw e;
  });
  const stopFleet = world.stop;
  return Object.assign(world, {
    nats,
    async stop() {
      await stopFleet();
      await nats.destroy();
    },
  });
}

/** The chaos fleet on the NATS at `natsUrl` (comma-separated for a cluster), with a redis-server of its own; stop() leaves NATS running. */
export async function startChaosWorldOn(natsUrl: string, opts: ChaosWorldOptions): Promise<ChaosFleetWorld> {
  const started: Started = {};
  try {
    return await buildWorld(natsUrl, opts, started);
  } catch (e) {
    // A service that did not start: nothing of this world may stay running (it would keep the test process alive).
    if (started.world) await started.world.stop().catch(() => undefined);
    else {
      await started.fleet?.stop().catch(() => undefined);
      await started.nc?.close().catch(() => undefined);
      await started.redis?.destroy().catch(() => undefined);
    }
    throw e;
  }
}

/** What buildWorld started so far. */
interface Started {
  redis?: ServerHandle;
  fleet?: Fleet;
  nc?: NatsConnection;
  world?: ChaosFleetWorld;
}

async function buildWorld(natsUrl: string, opts: ChaosWorldOptions, started: Started): Promise<ChaosFleetWorld> {
  const redis = (started.redis = await startRedisServer());
  const env: Record<string, string> = { NATS_URL: natsUrl, REDIS_URL: redis.url, ...opts.env };
  const fleet = (started.fleet = await startFleet({ workers: 0, env, collectorEnv: false }));
  const prefix = fleet.prefix;
  const base = { ...env, SB_PREFIX: prefix, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'info' };

  const logger = createLogger('metrics-collector', 'warn');
  const collectorCfg = loadMetricsCollectorConfig({ ...base, LOG_LEVEL: 'warn' });
  const workerBase = {
    ...base,
    WORKER_TEST_AGENTS: 'true',
    WORKER_AGENTS: 'echo,sleep',
    WORKER_CONCURRENCY: '8',
    SB_AGENT_KEY: fleet.agentKey,
    ...opts.workerEnv,
  };
  const recoveryBase = { ...base, ...opts.recoveryEnv };
  // Parsed as the child processes parse them (they inherit this environment), defaults included.
  const timings = chaosTimings(loadWorkerConfig({ ...process.env, ...workerBase }), loadRecoveryConfig({ ...process.env, ...recoveryBase }), collectorCfg, loadGatewayConfig({ ...process.env, ...base }));
  const { app: collector } = await createServiceApp({ service: 'metrics-collector', config: { ...collectorCfg, HTTP_PORT: 0 }, module: () => metricsCollectorModule(collectorCfg, logger) });
  await collector.listen(0, '127.0.0.1');
  fleet.apps.push(collector as INestApplication);

  const tenantId = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'enterprise');
  const { key } = await keyFor(fleet.httpUrl, fleet.adminKey, tenantId);
  const nc = await connect({ servers: natsUrl.split(',').map((u) => u.trim()), maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  started.nc = nc;
  // Recovery owns this bucket and brings it to its declaration; created first here with the same replicas.
  const replicas = Number(env.JETSTREAM_REPLICAS ?? 1);
  const leaderKv = await new Kvm(jetstream(nc)).create(names(prefix).recoveryCore.leaderBucket, { history: 1, replicas });

  const world: ChaosFleetWorld = {
    natsUrl,
    redis,
    fleet,
    prefix,
    tenantId,
    key,
    nc,
    workers: [],
    recoveries: [],
    timings,
    async spawnWorker(extra = {}) {
      const id = `chaos-w${++seq}`;
      const w = await spawnService('agent-worker', id, { ...workerBase, WORKER_ID: id, ...extra }, 'worker taking tasks');
      world.workers.push(w);
      return w;
    },
    async spawnRecovery(extra = {}) {
      const id = `chaos-r${++seq}`;
      const r = await spawnService('recovery', id, { ...recoveryBase, RECOVERY_REPLICA_ID: id, ...extra }, 'recovery listening');
      world.recoveries.push(r);
      return r;
    },
    async leaderId() {
      const e = await leaderKv.get('leader');
      return e && e.operation === 'PUT' ? (e.json<{ holder: string | null }>().holder ?? null) : null;
    },
    async stop() {
      for (const c of [...world.workers, ...world.recoveries]) {
        if (c.alive()) c.signal('SIGCONT');
        await c.kill('SIGKILL');
      }
      await fleet.stop();
      await nc.close().catch(() => undefined);
      await redis.destroy();
    },
  };
  started.world = world;
  for (let i = 0; i < opts.recoveries; i++) await world.spawnRecovery();
  for (let i = 0; i < opts.workers; i++) await world.spawnWorker();
  return world;
}
