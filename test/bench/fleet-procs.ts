/**
 * The Switchboard fleet for the bench, each service a real child process started from its
 * built entry (`dist/apps/<app>/src/main.js`) against the bench's own NATS and Redis, under a
 * prefix of its own. Ready means `GET /health/ready` answered 200 (on the gateway's ops port,
 * OPS_PORT, where its health and metrics are); idle memory is VmRSS from
 * /proc after the fleet has been ready and idle for a moment. NATS authentication is on: each
 * service connects as its own user, the worker as a pool agent (bench-nats.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatApiKey, type PlatformService } from '@sb/contracts';
import { findFreePort, ManagedProcess } from '../../libs/testing/src/local-servers';
import { BENCH_KEK, type BenchNats } from './bench-nats';

export { BENCH_KEK };

export interface ServiceProc {
  name: string;
  port: number;
  url: string;
  /** Health and /metrics when not on `url`: the gateway's ops port. */
  opsUrl?: string;
  proc: ManagedProcess;
  /** Not needed for the task path: measured for memory, then stopped. */
  optional: boolean;
}

export interface FleetOptions {
  repoRoot: string;
  /** The bench's nats-server (operator mode) and the credentials of its users. */
  nats: BenchNats;
  redisUrl: string;
  prefix: string;
  adminKey: string;
  workerConcurrency: number;
  readyTimeoutMs?: number;
}

export interface StartFailure {
  name: string;
  error: string;
}

export interface Fleet {
  services: ServiceProc[];
  failures: StartFailure[];
  gatewayUrl: string;
  stop(names?: string[]): Promise<void>;
}

interface Spec {
  name: string;
  group: 1 | 2 | 3;
  optional: boolean;
  env?: (o: FleetOptions) => Record<string, string>;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** The agent key the bench's auth registers and its worker presents (derived from the admin key, in the key format: both are the bench's own). */
export const agentKeyOf = (o: Pick<FleetOptions, 'adminKey'>) => formatApiKey([...createHash('sha256').update(`${o.adminKey}:agent`).digest()].map((b) => BASE62[b % 62]).join(''));

const SPECS: Spec[] = [
  { name: 'tenancy', group: 1, optional: false },
  { name: 'auth', group: 1, optional: false, env: (o) => ({ SB_BOOTSTRAP_ADMIN_KEY: o.adminKey, SB_BOOTSTRAP_AGENT_KEY: agentKeyOf(o), SB_KEK: BENCH_KEK }) },
  // The bench is one tenant flat out: lift its submission rate so the limiter (still consulted) never refuses.
  // Its waits per key too: the round trips run up to 64 submit-and-wait requests on one key. And its
  // pre-authentication burst: every request in authentication holds a token of its source's, and
  // 64 in flight from one client exceed the default 50.
  { name: 'gateway', group: 2, optional: false, env: () => ({ TENANT_SUBMIT_RATE: '1000000', TENANT_SUBMIT_BURST: '10000000', WAIT_MAX_PER_KEY: '100000', PREAUTH_BURST: '100000' }) },
  // Agents register with the collector: it is on the task path now.
  { name: 'metrics-collector', group: 2, optional: false },
  { name: 'agent-worker', group: 3, optional: false, env: (o) => ({ WORKER_AGENTS: 'echo', WORKER_CONCURRENCY: String(o.workerConcurrency), SB_AGENT_KEY: agentKeyOf(o) }) },
  { name: 'alerting', group: 2, optional: true },
  { name: 'recovery', group: 2, optional: true },
];

export function entryOf(repoRoot: string, name: string): string {
  return join(repoRoot, 'dist', 'apps', name, 'src', 'main.js');
}

async function spawnService(spec: Spec, o: FleetOptions): Promise<ServiceProc> {
  const main = entryOf(o.repoRoot, spec.name);
  if (!existsSync(main)) throw new Error(`${main} is missing (did "npm run build" succeed?)`);
  const port = await findFreePort('127.0.0.1');
  const opsPort = spec.name === 'gateway' ? await findFreePort('127.0.0.1') : undefined;
  const natsUser = spec.name === 'agent-worker' ? await o.nats.agentEnv(o.prefix) : await o.nats.serviceEnv(o.prefix, spec.name as PlatformService);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NATS_URL: o.nats.url,
    ...natsUser,
    REDIS_URL: o.redisUrl,
    SB_PREFIX: o.prefix,
    HTTP_PORT: String(port),
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...(opsPort ? { OPS_PORT: String(opsPort) } : {}),
    ...spec.env?.(o),
  };
  const proc = new ManagedProcess({ name: spec.name, command: process.execPath, args: [main], cwd: o.repoRoot, env, tailLines: 60 });
  const url = `http://127.0.0.1:${port}`;
  return { name: spec.name, port, url, opsUrl: opsPort ? `http://127.0.0.1:${opsPort}` : undefined, proc, optional: spec.optional };
}

/** Poll /health/ready until 200; fail at once if the process exits. */
export async function waitReady(s: ServiceProc, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (s.proc.exit) throw new Error(`${s.proc.describeExit()} before it was ready.\n--- ${s.name} output (tail) ---\n${s.proc.outputTail()}`);
    try {
      const res = await fetch(`${s.opsUrl ?? s.url}/health/ready`, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      if (res.status === 200) return;
      last = `${res.status} ${body.slice(0, 300)}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await Promise.race([s.proc.exited, new Promise((r) => setTimeout(r, 150))]);
  }
  throw new Error(`${s.name} was not ready within ${timeoutMs} ms (last: ${last}).\n--- ${s.name} output (tail) ---\n${s.proc.outputTail()}`);
}

/** Start the fleet, tenancy and auth first. Optional services that fail are reported, not fatal. */
export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const services: ServiceProc[] = [];
  const failures: StartFailure[] = [];
  const timeout = o.readyTimeoutMs ?? 45_000;
  const fleet: Fleet = {
    services,
    failures,
    gatewayUrl: '',
    stop: async (names) => {
      const targets = names ? services.filter((s) => names.includes(s.name)) : services;
      await Promise.all(targets.map((s) => s.proc.stop(5_000)));
    },
  };
  try {
    for (const group of [1, 2, 3] as const) {
      const started = await Promise.all(SPECS.filter((s) => s.group === group).map(async (spec) => ({ spec, svc: await spawnService(spec, o) })));
      for (const { svc } of started) services.push(svc);
      const outcomes = await Promise.allSettled(started.map(({ svc }) => waitReady(svc, timeout)));
      for (const [i, r] of outcomes.entries()) {
        if (r.status === 'fulfilled') continue;
        const { spec, svc } = started[i];
        const error = r.reason instanceof Error ? r.reason.message : String(r.reason);
        if (!spec.optional) throw new Error(`${spec.name} did not start: ${error}`);
        failures.push({ name: spec.name, error: error.split('\n')[0] });
        await svc.proc.stop(2_000);
      }
    }
  } catch (e) {
    await fleet.stop();
    throw e;
  }
  fleet.gatewayUrl = services.find((s) => s.name === 'gateway')!.url;
  return fleet;
}

/** Resident set size of a live process in MiB, from /proc/<pid>/status (undefined if unreadable). */
export function rssMiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface RssReading {
  name: string;
  rssMiB?: number;
  note?: string;
}

export function readIdleRss(fleet: Fleet): RssReading[] {
  const out: RssReading[] = fleet.services
    .filter((s) => !s.proc.exit)
    .map((s) => ({ name: s.name, rssMiB: rssMiB(s.proc.pid) }));
  for (const f of fleet.failures) out.push({ name: f.name, note: `did not start: ${f.error.slice(0, 120)}` });
  return out;
}
