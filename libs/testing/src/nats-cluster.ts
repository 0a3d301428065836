// A 3-node (or N-node) nats-server cluster on loopback, as deploy/scale-out/nats-values.yaml
// runs it: every node with JetStream and a store dir of its own, routes to the others, and a
// monitoring port. For chaos tests that kill a node (SIGKILL) and bring it back on the same store.
//
// Readiness is what the servers report, never a fixed sleep: /healthz for a node's JetStream,
// and each stream's leader (its /jsz) for whether a replica is current.
//
// nats-server 2.9.10 (Debian's): after a restart, a consumer the node led before it was killed
// can stay "not current" on that node although it has a leader and a current follower (its full
// /healthz then never turns 200; later servers repair this). So a restart waits for the node's
// JetStream and its streams to be current, and `lagging()` reports the consumers that are not.
//
// No jest or testcontainers imports.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { forgetTempDir, removeOnExit } from './local-process';
import { type ServerHandle, startNatsServer } from './local-servers';
import { findFreePort } from './net-probes';

const HOST = '127.0.0.1';

export interface NatsClusterOptions {
  /** Number of nodes. Default 3 (R3 streams survive one node down). */
  size?: number;
  /** Cluster name. Default `sbtest`. */
  name?: string;
  /** Parent dir of the nodes' dirs (store, config); default a fresh temp dir, removed by stop(). */
  dir?: string;
  /**
   * Extra server configuration for a node (appended to its config file), e.g. the operator-mode
   * lines of `serverAuthConfig(security, join(nodeDir, 'jwt'))`. Each node gets its own.
   */
  extraConfig?: (node: { name: string; dir: string }) => string | Promise<string>;
  /** Client options for the cluster's own probes (e.g. a system or admin user's authenticator when extraConfig enables auth). */
  probeConnectOptions?: Record<string, unknown>;
  /** Upper bound for every wait (start, catch-up). Default 30 s. */
  readyTimeoutMs?: number;
}

export interface NatsClusterNode {
  /** server_name: what JetStream reports as a stream's leader or replica (`n1`, `n2`, ...). */
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly clusterPort: number;
  readonly monitorPort: number;
  /** The node's JetStream store dir (kept across kill/restart). */
  readonly storeDir: string;
  readonly running: boolean;
  readonly pid: number;
}

export interface NatsCluster {
  readonly nodes: readonly NatsClusterNode[];
  /** Every node's client URL, comma-separated: what NATS_URL gets. */
  readonly url: string;
  readonly urls: readonly string[];
  /** The node by name or index. */
  node(which: string | number): NatsClusterNode;
  /** SIGKILL the node (a crash: no lame duck, no flush) and resolve once the process is gone. */
  kill(which: string | number): Promise<void>;
  /**
   * Start the node again on the same ports and store dir; resolves once it is back: its JetStream
   * current with the meta leader, and a current replica of every stream it holds (by each
   * stream's leader). Consumers it is not current on yet: `lagging()`.
   */
  restart(which: string | number): Promise<void>;
  /** Resolves once `which` (or every running node) answers /healthz 200: JetStream current with the meta leader, its streams and consumers caught up. */
  healthy(which?: string | number, timeoutMs?: number): Promise<void>;
  /** The streams and consumers (`account > stream [> consumer]`) held by `which` on which it is not a current replica, as their leaders see it. */
  lagging(which: string | number): Promise<{ streams: string[]; consumers: string[] }>;
  /** The server_name leading `stream` (`$JS.API.STREAM.INFO.<stream>` → cluster.leader); undefined while it has none. Retries an API that does not answer (up to readyTimeoutMs). */
  streamLeader(nc: NatsConnection, stream: string): Promise<string | undefined>;
  /** Stop every node (SIGTERM) and remove the cluster's dirs if this module created them. */
  stop(): Promise<void>;
}

interface NodeState {
  name: string;
  dir: string;
  storeDir: string;
  conf: string;
  port: number;
  clusterPort: number;
  monitorPort: number;
  server?: ServerHandle;
}

/** Distinct free ports (findFreePort can hand back one it gave before once that socket closed). */
async function freePorts(n: number): Promise<number[]> {
  const out = new Set<number>();
  while (out.size < n) out.add(await findFreePort(HOST));
  return [...out];
}

function nodeConfig(node: NodeState, peers: NodeState[], clusterName: string, extra: string): string {
  const routes = peers.filter((p) => p !== node).map((p) => `nats-route://${HOST}:${p.clusterPort}`);
  return [
    `server_name: ${node.name}`,
    `listen: ${HOST}:${node.port}`,
    `http: ${HOST}:${node.monitorPort}`,
    `jetstream { store_dir: ${JSON.stringify(node.storeDir)}, max_memory_store: 256MB, max_file_store: 2GB }`,
    // Routes are retried every second by default; a restarted node is back in the cluster within that.
    `cluster { name: ${clusterName}, listen: ${HOST}:${node.clusterPort}, routes: [${routes.join(', ')}] }`,
    extra,
    '',
  ].join('\n');
}

interface JszCluster {
  leader?: string;
  replicas?: Array<{ name: string; current: boolean }>;
}
/** A stream or consumer as a node's /jsz shows it, with its node-independent id. */
interface JszAsset {
  id: string;
  consumer: boolean;
  cluster?: JszCluster;
}

/** Every stream and consumer the node holds (all accounts), from its /jsz. */
async function jsz(s: { monitorPort: number }): Promise<JszAsset[]> {
  type Consumer = { name: string; cluster?: JszCluster };
  type Stream = { name: string; cluster?: JszCluster; consumer_detail?: Consumer[] };
  const body = (await (await fetch(`http://${HOST}:${s.monitorPort}/jsz?accounts=true&streams=true&consumers=true`)).json()) as {
    account_details?: Array<{ name: string; stream_detail?: Stream[] }>;
  };
  const out: JszAsset[] = [];
  for (const acc of body.account_details ?? []) {
    for (const st of acc.stream_detail ?? []) {
      out.push({ id: `${acc.name} > ${st.name}`, consumer: false, cluster: st.cluster });
      for (const c of st.consumer_detail ?? []) out.push({ id: `${acc.name} > ${st.name} > ${c.name}`, consumer: true, cluster: c.cluster });
    }
  }
  return out;
}

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Polls `check` every `everyMs` until it returns true; the timeout is an upper bound only. */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: () => string, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`nats cluster: timed out after ${timeoutMs} ms waiting for ${what()}`);
    await pause(everyMs);
  }
}

export async function startNatsCluster(opts: NatsClusterOptions = {}): Promise<NatsCluster> {
  const size = opts.size ?? 3;
  const clusterName = opts.name ?? 'sbtest';
  const timeoutMs = opts.readyTimeoutMs ?? 30_000;
  const ownsDir = !opts.dir;
  const root = opts.dir ?? mkdtempSync(join(tmpdir(), 'sb-nats-cluster-'));
  if (ownsDir) removeOnExit(root);
  const ports = await freePorts(size * 3);
  const states: NodeState[] = Array.from({ length: size }, (_, i) => {
    const name = `n${i + 1}`;
    const dir = join(root, name);
    return { name, dir, storeDir: join(dir, 'js'), conf: join(dir, 'nats-server.conf'), port: ports[i * 3], clusterPort: ports[i * 3 + 1], monitorPort: ports[i * 3 + 2] };
  });
  for (const s of states) {
    mkdirSync(s.storeDir, { recursive: true });
    writeFileSync(s.conf, nodeConfig(s, states, clusterName, (await opts.extraConfig?.({ name: s.name, dir: s.dir })) ?? ''), { mode: 0o600 });
  }

  const find = (which: string | number): NodeState => {
    const s = typeof which === 'number' ? states[which] : states.find((x) => x.name === which);
    if (!s) throw new Error(`nats cluster: no node ${which} (nodes: ${states.map((x) => x.name).join(', ')})`);
    return s;
  };
  const launch = async (s: NodeState): Promise<void> => {
    // The config file enables JetStream with the store dir (the -js/-sd flags would clash with it); /healthz says when JetStream is up.
    s.server = await startNatsServer({ port: s.port, storeDir: s.dir, jetstream: false, readyTimeoutMs: timeoutMs, extraArgs: ['-c', s.conf] });
  };
  const healthz = async (s: NodeState, query = ''): Promise<boolean> => (await fetch(`http://${HOST}:${s.monitorPort}/healthz${query}`)).status === 200;
  const lagging = async (which: string | number) => {
    const s = find(which);
    const views = await Promise.all(states.filter((x) => x.server?.running).map(async (x) => ({ name: x.name, assets: await jsz(x) })));
    const led = new Map<string, JszCluster>();
    for (const v of views) for (const a of v.assets) if (a.cluster?.leader === v.name) led.set(a.id, a.cluster);
    const mine = views.find((v) => v.name === s.name)?.assets ?? [];
    const current = (id: string) => {
      const c = led.get(id);
      return !!c && (c.leader === s.name || !!c.replicas?.find((r) => r.name === s.name)?.current);
    };
    const out = { streams: [] as string[], consumers: [] as string[] };
    for (const a of mine) if (!current(a.id)) (a.consumer ? out.consumers : out.streams).push(a.id);
    return out;
  };
  const healthy = async (which?: string | number, t = timeoutMs): Promise<void> => {
    const targets = which === undefined ? states.filter((s) => s.server?.running) : [find(which)];
    await Promise.all(targets.map((s) => until(() => healthz(s), t, () => `${s.name} /healthz (${s.server?.outputTail().split('\n').slice(-5).join(' | ')})`)));
  };

  // All nodes at once: JetStream needs a quorum of them before it answers anything.
  try {
    await Promise.all(states.map(launch));
    await healthy();
    // The meta leader is elected once every node reports healthy; JetStream API requests then answer.
    const nc = await connect({ servers: states.map((s) => `nats://${HOST}:${s.port}`), ...opts.probeConnectOptions });
    try {
      const jsm = await jetstreamManager(nc, { timeout: 2_000 });
      await until(async () => !!(await jsm.getAccountInfo()), timeoutMs, () => 'the JetStream meta leader');
    } finally {
      await nc.close();
    }
  } catch (e) {
    await Promise.all(states.map((s) => s.server?.stop()));
    if (ownsDir) rmSync(root, { recursive: true, force: true });
    throw e;
  }

  const view = (s: NodeState): NatsClusterNode => ({
    name: s.name,
    url: `nats://${HOST}:${s.port}`,
    port: s.port,
    clusterPort: s.clusterPort,
    monitorPort: s.monitorPort,
    storeDir: s.storeDir,
    get running() {
      return !!s.server?.running;
    },
    get pid() {
      return s.server?.pid ?? -1;
    },
  });
  const nodes = states.map(view);
  const urls = nodes.map((n) => n.url);
  return {
    nodes,
    urls,
    url: urls.join(','),
    node: (which) => nodes[states.indexOf(find(which))],
    async kill(which) {
      const s = find(which);
      if (!s.server?.running) return;
      s.server.kill('SIGKILL');
      // stop() after the kill only waits for the exit (the SIGTERM it sends finds nothing).
      await s.server.stop();
    },
    async restart(which) {
      const s = find(which);
      if (s.server?.running) throw new Error(`nats cluster: ${s.name} is running; kill it first`);
      await launch(s);
      await until(() => healthz(s, '?js-server-only=true'), timeoutMs, () => `${s.name}'s JetStream to be current with the meta leader`);
      let behind: string[] = [];
      await until(async () => (behind = (await lagging(s.name)).streams).length === 0, timeoutMs, () => `${s.name} to be a current replica of ${behind.join(', ')}`);
    },
    healthy,
    lagging,
    async streamLeader(nc, stream) {
      // Retried: right after a kill or a restart the API can time out while the meta group and the client settle.
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          const info = await (await jetstreamManager(nc, { timeout: 2_000 })).streams.info(stream);
          return info.cluster?.leader || undefined;
        } catch (e) {
          if (/not found/i.test((e as Error).message) || Date.now() > deadline) throw e;
          await pause(100);
        }
      }
    },
    async stop() {
      await Promise.all(states.map((s) => s.server?.stop()));
      if (ownsDir) {
        rmSync(root, { recursive: true, force: true });
        forgetTempDir(root);
      }
    },
  };
}
