// A Redis Sentinel set on loopback for tests: a primary, its replicas and the Sentinels that
// watch them, each a real process on a free port (redis-server, redis-sentinel). Startup returns
// once the set can fail over: every replica in sync, every Sentinel knows every replica and every
// other Sentinel, and SENTINEL CKQUORUM says the quorum and a failover majority are reachable.
// Failovers are events (`+switch-master` on the Sentinels' pub/sub), awaited, never slept on.
//
// Debian: apt-get install redis-server redis-sentinel (without redis-sentinel, `redis-server
// --sentinel` is used).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { forgetTempDir, ManagedProcess, removeOnExit } from './local-process';
import { type ServerHandle, startRedisServer } from './local-servers';
import { findFreePort, probeRedis, whichBinary } from './net-probes';

const HOST = '127.0.0.1';

export interface RedisSentinelSetOptions {
  /** Master group name. Default `sbmaster`. */
  name?: string;
  /** Replicas of the primary. Default 1. */
  replicas?: number;
  /** Sentinels. Default 3. */
  sentinels?: number;
  /** Sentinels that must agree the master is down. Default: a majority. */
  quorum?: number;
  /** `down-after-milliseconds`: silence before a Sentinel thinks the master is down. Default 1000. */
  downAfterMs?: number;
  /** `failover-timeout`. Default 3000 (a failed election is retried after twice this). */
  failoverTimeoutMs?: number;
  /** Upper bound for the whole set to be ready. Default 30 s. */
  readyTimeoutMs?: number;
}

export interface SentinelProcess {
  readonly port: number;
  readonly pid: number;
  readonly running: boolean;
  kill(signal?: NodeJS.Signals): void;
  stop(): Promise<void>;
  outputTail(): string;
}

/** One `+switch-master` announcement: the group moved from one server to another. */
export interface MasterSwitch {
  /** Date.now() when the test received it. */
  at: number;
  from: string;
  to: string;
}

export interface RedisSentinelSet {
  readonly name: string;
  /** The servers, the primary at start first. */
  readonly servers: ServerHandle[];
  readonly sentinels: SentinelProcess[];
  /** `127.0.0.1:p1,127.0.0.1:p2,...`: what REDIS_SENTINELS takes. */
  readonly sentinelList: string;
  /** REDIS_SENTINELS and REDIS_SENTINEL_NAME for a service of this set. */
  readonly env: { REDIS_SENTINELS: string; REDIS_SENTINEL_NAME: string };
  /** A SENTINEL subcommand (e.g. `FAILOVER <name>`) on the first running Sentinel. */
  sentinel(...args: string[]): Promise<unknown>;
  /** `host:port` of the master, as the first Sentinel that answers says. */
  master(): Promise<string>;
  /** The server at `master()`. */
  masterServer(): Promise<ServerHandle>;
  /**
   * Listen for the next failover: subscribe before causing it (await `subscribed`), then await
   * `next`. `close()` ends the subscriptions.
   */
  watchFailover(): { subscribed: Promise<void>; next: Promise<MasterSwitch>; close(): void };
  /** Resolves once the set could fail over again (after a failover: the old master rejoined as a replica). */
  steady(timeoutMs?: number): Promise<void>;
  /** A plain client to one server (admin work in tests: WAIT, INFO, inspection). Quit it yourself. */
  clientOf(server: ServerHandle): Redis;
  destroy(): Promise<void>;
}

const addr = (s: ServerHandle) => `${HOST}:${s.port}`;
const adminOptions = { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null } as const;
const quiet = (port: number) => new Redis({ host: HOST, port, ...adminOptions, enableOfflineQueue: false });

/** One command on a short-lived connection. */
async function call(port: number, ...args: string[]): Promise<unknown> {
  const c = quiet(port);
  c.on('error', () => undefined);
  try {
    await c.connect();
    return await c.call(args[0], ...args.slice(1));
  } finally {
    c.disconnect();
  }
}

/** `[k1, v1, k2, v2]` (Sentinel's replies) → object. */
function pairs(flat: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const a = flat as string[];
  for (let i = 0; i + 1 < a.length; i += 2) out[a[i]] = a[i + 1];
  return out;
}

async function startSentinel(dir: string, index: number, conf: (port: number) => string): Promise<SentinelProcess> {
  const sentinelBinary = whichBinary('redis-sentinel');
  const serverBinary = whichBinary('redis-server');
  if (!sentinelBinary && !serverBinary) throw new Error('redis-sentinel not found (Debian: apt-get install redis-sentinel)');
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort(HOST);
    const file = join(dir, `sentinel-${index}.conf`);
    // Sentinel rewrites its own config file (it records what it learns), so each gets a writable one.
    writeFileSync(file, conf(port));
    const proc = new ManagedProcess({
      name: `redis-sentinel-${index}`,
      command: sentinelBinary ?? serverBinary!,
      args: sentinelBinary ? [file] : [file, '--sentinel'],
    });
    try {
      await untilProbed(proc, port);
    } catch (err) {
      await proc.stop(1_000);
      if (attempt < 3 && /address already in use/i.test(proc.outputTail())) continue;
      throw err;
    }
    return {
      port,
      get pid() {
        return proc.pid;
      },
      get running() {
        return proc.exit === undefined;
      },
      kill: (signal: NodeJS.Signals = 'SIGTERM') => proc.kill(signal),
      stop: async () => void (await proc.stop(2_000)),
      outputTail: () => proc.outputTail(),
    };
  }
}

async function untilProbed(proc: ManagedProcess, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exit) throw new Error(`${proc.describeExit()} before it was ready on port ${port}:\n${proc.outputTail()}`);
    try {
      return await probeRedis({ host: HOST, port });
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(`${proc.name} not ready on ${port} within ${timeoutMs} ms: ${(err as Error).message}\n${proc.outputTail()}`);
      }
    }
    await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 50).unref())]);
  }
}

/** Poll `check` (it throws or returns false while not yet so) until it holds; the Sentinel protocol has no event for "steady". */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = 'false';
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`redis sentinel set: ${what} not reached within ${timeoutMs} ms (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startRedisSentinelSet(opts: RedisSentinelSetOptions = {}): Promise<RedisSentinelSet> {
  const name = opts.name ?? 'sbmaster';
  const replicaCount = opts.replicas ?? 1;
  const sentinelCount = opts.sentinels ?? 3;
  const quorum = opts.quorum ?? Math.floor(sentinelCount / 2) + 1;
  const downAfterMs = opts.downAfterMs ?? 1_000;
  const failoverTimeoutMs = opts.failoverTimeoutMs ?? 3_000;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  if (replicaCount < 1 || sentinelCount < 1 || quorum < 1 || quorum > sentinelCount) {
    throw new RangeError('startRedisSentinelSet: needs ≥1 replica, ≥1 sentinel, 1 ≤ quorum ≤ sentinels');
  }

  const dir = mkdtempSync(join(tmpdir(), 'sb-sentinel-'));
  removeOnExit(dir);
  const servers: ServerHandle[] = [];
  const sentinels: SentinelProcess[] = [];
  /**
   * Every running Sentinel sees a master with all its replicas in sync and every other Sentinel,
   * and can reach the quorum and a failover majority: a failover can happen now.
   */
  const steady = async (timeoutMs: number) => {
    const live = sentinels.filter((s) => s.running);
    for (const s of live) {
      await until(`sentinel :${s.port} knowing the set`, timeoutMs, async () => {
        const m = pairs(await call(s.port, 'SENTINEL', 'MASTER', name));
        if (m.flags !== 'master' || Number(m['num-slaves']) !== replicaCount) return false;
        if (Number(m['num-other-sentinels']) !== sentinelCount - 1) return false;
        const replicas = ((await call(s.port, 'SENTINEL', 'REPLICAS', name)) as unknown[]).map(pairs);
        if (!replicas.every((r) => r.flags === 'slave' && r['master-link-status'] === 'ok')) return false;
        return String(await call(s.port, 'SENTINEL', 'CKQUORUM', name)).startsWith('OK');
      });
    }
  };
  const destroy = async () => {
    // Sentinels first, so none reconfigures a server that is being stopped.
    await Promise.all(sentinels.map((s) => s.stop()));
    await Promise.all(servers.map((s) => s.destroy()));
    rmSync(dir, { recursive: true, force: true });
    forgetTempDir(dir);
  };
  try {
    const primary = await startRedisServer();
    servers.push(primary);
    for (let i = 0; i < replicaCount; i++) servers.push(await startRedisServer({ extraArgs: ['--replicaof', HOST, String(primary.port)] }));
    // Replicas in sync before the Sentinels start: their first INFO of the primary then lists them.
    for (const r of servers.slice(1)) {
      const inSync = async () => /master_link_status:up/.test(String(await call(r.port, 'INFO', 'replication')));
      await until(`replica ${addr(r)} in sync`, readyTimeoutMs, inSync);
    }
    const conf = (port: number) =>
      [
        `port ${port}`, `bind ${HOST}`, 'protected-mode no', 'daemonize no', `dir ${dir}`, 'logfile ""',
        `sentinel monitor ${name} ${HOST} ${primary.port} ${quorum}`,
        `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
        `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n');
    for (let i = 0; i < sentinelCount; i++) sentinels.push(await startSentinel(dir, i, conf));
    await steady(readyTimeoutMs);
  } catch (err) {
    await destroy();
    throw err;
  }

  const sentinelList = sentinels.map((s) => `${HOST}:${s.port}`).join(',');
  const master = async (): Promise<string> => {
    let last: unknown;
    for (const s of sentinels.filter((x) => x.running)) {
      try {
        const [host, port] = (await call(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string];
        return `${host}:${port}`;
      } catch (err) {
        last = err;
      }
    }
    throw new Error(`no sentinel answered for ${name}: ${String(last)}`);
  };

  return {
    name,
    servers,
    sentinels,
    sentinelList,
    env: { REDIS_SENTINELS: sentinelList, REDIS_SENTINEL_NAME: name },
    sentinel: (...args) => {
      const s = sentinels.find((x) => x.running);
      if (!s) return Promise.reject(new Error('no sentinel is running'));
      return call(s.port, 'SENTINEL', ...args);
    },
    master,
    async masterServer() {
      const at = await master();
      const s = servers.find((x) => addr(x) === at);
      if (!s) throw new Error(`the master ${at} is none of this set's servers`);
      return s;
    },
    watchFailover() {
      const subs = sentinels.filter((s) => s.running).map((s) => quiet(s.port));
      let resolve!: (m: MasterSwitch) => void;
      const next = new Promise<MasterSwitch>((r) => (resolve = r));
      for (const c of subs) {
        c.on('error', () => undefined);
        // Any Sentinel's announcement will do: the first one is when the group moved.
        c.on('message', (_channel: string, text: string) => {
          const [group, fromHost, fromPort, toHost, toPort] = text.split(' ');
          if (group === name) resolve({ at: Date.now(), from: `${fromHost}:${fromPort}`, to: `${toHost}:${toPort}` });
        });
      }
      const subscribed = Promise.all(subs.map(async (c) => {
        await c.connect();
        await c.subscribe('+switch-master');
      })).then(() => undefined);
      return { subscribed, next, close: () => subs.forEach((c) => c.disconnect()) };
    },
    steady: (timeoutMs = readyTimeoutMs) => steady(timeoutMs),
    clientOf: (server) => new Redis({ host: HOST, port: server.port, ...adminOptions }),
    destroy,
  };
}
