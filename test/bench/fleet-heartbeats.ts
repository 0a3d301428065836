/**
 * Fleet telemetry bench (issue 4): one metrics-collector process (built, as a child, with an
 * auth process for the agent key the agents register with) under 10,000 simulated agents
 * heartbeating at 1 Hz, each beat carrying the agent's session (agent protocol v1): its CPU share of one core, and the detection
 * latency of agents that stop (from their last heartbeat, i.e. the worst case of a kill right
 * after a beat). Then metric ingestion in batches (samples/s). Each is set against the raw
 * floor from the same run: plain nats.js publishing the same messages to a plain subscriber
 * process that decodes them (JSON.parse) and counts. NATS authentication on: the services as their
 * own users, the simulated agents on one connection as a pool agent (AGENTS account, through the
 * platform's imports), the floor's publisher and subscriber as platform users.
 *
 * Runnable alone: `node dist/test/bench/fleet-heartbeats.js` (after `npm run build`).
 * Env: BENCH_FLEET_AGENTS (default 10000), BENCH_FLEET_WINDOW_MS (measured window, 10000),
 * BENCH_FLEET_STOPPED (agents stopped during the window, 100).
 */
import { join } from 'node:path';
import { headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { AGENT_SESSION_HEADER, generateApiKey, type Heartbeat, type MetricSample, names, type RegistrationReply } from '@sb/contracts';
import { findFreePort, ManagedProcess } from '../../libs/testing/src/local-servers';
import { cpuSeconds } from './cpu';
import type { BenchNats } from './bench-nats';
import { BENCH_KEK, entryOf, type ServiceProc, waitReady } from './fleet-procs';
import { runStandalone } from './standalone';

const REPO = join(__dirname, '../../..');
const PREFIX = 'sbfleet';
const n = names(PREFIX);
const AGENT_KEY = generateApiKey();

export interface FleetBenchResult {
  lines: string[];
}

interface Opts {
  agents: number;
  windowMs: number;
  stopped: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], q: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)] : NaN);

async function startService(name: 'metrics-collector' | 'auth', nats: BenchNats, extra: Record<string, string>): Promise<ServiceProc> {
  const port = await findFreePort('127.0.0.1');
  const env = { ...process.env, NATS_URL: nats.url, ...(await nats.serviceEnv(PREFIX, name)), SB_PREFIX: PREFIX, HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...extra };
  const proc = new ManagedProcess({ name, command: process.execPath, args: [entryOf(REPO, name)], cwd: REPO, env, tailLines: 60 });
  const svc: ServiceProc = { name, port, url: `http://127.0.0.1:${port}`, proc, optional: false };
  await waitReady(svc, 45_000);
  return svc;
}

/** Room for every simulated agent: they all register with the one agent key, which the collector caps (COLLECTOR_MAX_AGENTS_PER_KEY, 5,000 by default). */
const startCollector = (nats: BenchNats, redisUrl: string, agents: number) =>
  startService('metrics-collector', nats, {
    REDIS_URL: redisUrl,
    FLEET_SAMPLES_MS: '5000',
    COLLECTOR_MAX_AGENTS: String(Math.max(10_000, agents)),
    COLLECTOR_MAX_AGENTS_PER_KEY: String(Math.max(5_000, agents)),
  });
/** Auth answers for the agent key the simulated agents register with. */
const startAuth = (nats: BenchNats) => startService('auth', nats, { SB_BOOTSTRAP_ADMIN_KEY: generateApiKey(), SB_BOOTSTRAP_AGENT_KEY: AGENT_KEY, SB_KEK: BENCH_KEK });

/** The floor's subscriber: a separate process that decodes and counts what it receives. */
async function startFloorSubscriber(nats: BenchNats, subject: string): Promise<ManagedProcess> {
  const script = `
    const { connect } = require('@nats-io/transport-node');
    const { credsAuthenticator } = require('@nats-io/nats-core');
    (async () => {
      const authenticator = credsAuthenticator(new TextEncoder().encode(process.env.BENCH_NATS_CREDS));
      const nc = await connect({ servers: ${JSON.stringify(nats.url)}, noAsyncTraces: true, authenticator });
      let count = 0;
      nc.subscribe(${JSON.stringify(subject)}, { callback: (_e, m) => { JSON.parse(m.string()); count++; } });
      nc.subscribe('floor.count', { callback: (_e, m) => m.respond(String(count)) });
      await nc.flush();
      process.stdout.write('ready\\n');
    })();`;
  // The credentials in the environment, not the arguments: `ps` shows arguments to everyone.
  const env = { ...process.env, BENCH_NATS_CREDS: await nats.platformCreds('bench-floor-subscriber') };
  const proc = new ManagedProcess({ name: 'floor-subscriber', command: process.execPath, args: ['-e', script], cwd: REPO, env, tailLines: 20 });
  const deadline = Date.now() + 15_000;
  while (!proc.outputTail().includes('ready')) {
    if (proc.exit || Date.now() > deadline) throw new Error(`floor subscriber did not start: ${proc.outputTail()}`);
    await sleep(50);
  }
  return proc;
}

function heartbeat(agentId: string, seq: number): Heartbeat {
  return { agentId, seq, sentAt: Date.now(), status: 'ready', inFlight: seq % 2, capacity: 8, cpuPercent: 12.5, memoryBytes: 1.2e8, memoryPercent: 7.5 };
}

/** Beat every agent once per second, spread over 100 ticks of 10 ms, with its session; `stopped` agents no longer beat. */
function beatLoop(nc: NatsConnection, ids: string[], stopped: Map<string, number>, subjectOf: (id: string) => string, sessions: Map<string, MsgHdrs>): { stop(): void; lastBeat: Map<string, number>; maxLateMs: () => number } {
  const seq = new Map<string, number>();
  const lastBeat = new Map<string, number>();
  const perTick = Math.ceil(ids.length / 100);
  let tick = 0;
  const start = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let maxLate = 0;
  const run = () => {
    maxLate = Math.max(maxLate, Date.now() - (start + tick * 10));
    const slice = ids.slice((tick % 100) * perTick, (tick % 100 + 1) * perTick);
    for (const id of slice) {
      if (stopped.has(id)) continue;
      const s = (seq.get(id) ?? 0) + 1;
      seq.set(id, s);
      nc.publish(subjectOf(id), JSON.stringify(heartbeat(id, s)), { headers: sessions.get(id) });
      lastBeat.set(id, Date.now());
    }
    tick++;
    timer = setTimeout(run, Math.max(0, start + tick * 10 - Date.now()));
  };
  run();
  return { stop: () => clearTimeout(timer), lastBeat, maxLateMs: () => maxLate };
}

/** Register every agent with the agent key; each one's session, as the headers its messages carry. */
async function registerAll(nc: NatsConnection, ids: string[]): Promise<Map<string, MsgHdrs>> {
  const auth = natsHeaders();
  auth.set('Authorization', `Bearer ${AGENT_KEY}`);
  const sessions = new Map<string, MsgHdrs>();
  for (let i = 0; i < ids.length; i += 200) {
    await Promise.all(
      ids.slice(i, i + 200).map(async (agentId) => {
        const m = await nc.request(n.agents.register, JSON.stringify({ agentId, capabilities: ['echo'], version: 'bench', maxConcurrency: 8, host: 'bench', heartbeatIntervalMs: 1_000 }), { timeout: 30_000, headers: auth });
        if (m.headers?.get('Nats-Service-Error-Code')) throw new Error(`register ${agentId}: ${m.string()}`);
        const h = natsHeaders();
        h.set(AGENT_SESSION_HEADER, m.json<RegistrationReply>().session);
        sessions.set(agentId, h);
      }),
    );
  }
  return sessions;
}

async function scrape(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && (line[name.length] === '{' || line[name.length] === ' ')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

function batch(agentId: string, round: number, size: number): string {
  const samples: MetricSample[] = [];
  for (let i = 0; i < size; i++) {
    if (i % 10 === 9) samples.push({ type: 'histogram', name: 'bench_latency_seconds', labels: { op: `op${i}` }, buckets: [0.01, 0.05, 0.1, 0.5, 1].map((le, k) => ({ le, count: round * (k + 1) })), sum: round * 2.5, count: round * 6 });
    else samples.push({ type: i % 2 ? 'counter' : 'gauge', name: i % 2 ? 'bench_ops_total' : 'bench_level', labels: { series: `s${i}` }, value: round + i });
  }
  return JSON.stringify({ agentId, sentAt: Date.now(), samples });
}

export async function fleetHeartbeatsBench(nats: BenchNats, redisUrl: string, o: Opts, log: (m: string) => void): Promise<FleetBenchResult> {
  const lines: string[] = [];
  const auth = await startAuth(nats);
  const collector = await startCollector(nats, redisUrl, o.agents).catch(async (err) => {
    await auth.proc.stop(5_000);
    throw err;
  });
  const floorSubject = 'floor.heartbeat.*';
  const floor = await startFloorSubscriber(nats, floorSubject);
  // The simulated agents: one pool agent user for all of them.
  const nc = await connect(await nats.agent(PREFIX, 'bench-agents'));
  // The bench's observer (agents' down events) and the floor's publisher.
  const platform = await connect(await nats.platform('bench-fleet-observer'));
  const loops: Array<{ stop(): void }> = [];
  try {
    const ids = Array.from({ length: o.agents }, (_, i) => `bench-${i}`);
    log(`fleet: registering ${o.agents} agents`);
    const t0 = Date.now();
    const sessions = await registerAll(nc, ids);
    log(`fleet: registered in ${Date.now() - t0} ms; heartbeating at 1 Hz`);

    // 1. Heartbeats through the collector.
    const stopped = new Map<string, number>();
    const downs = new Map<string, number>();
    platform.subscribe(n.agents.livenessOf('down'), { callback: (_e: unknown, m: Msg) => downs.set(m.subject.split('.')[3], Date.now()) });
    const loop = beatLoop(nc, ids, stopped, (id) => n.agents.heartbeat(id), sessions);
    loops.push(loop);
    await sleep(5_000); // warm-up: every agent beating, JIT warm
    const cpu0 = cpuSeconds(collector.proc.pid)!;
    const beats0 = await scrape(collector.url, 'sb_collector_heartbeats_total');
    const w0 = Date.now();
    // Agents registered early in the 10k registration burst went down before their first beat; count from here.
    downs.clear();
    const victims = ids.filter((_, i) => i % Math.floor(o.agents / o.stopped) === 7).slice(0, o.stopped);
    for (const [k, id] of victims.entries()) setTimeout(() => stopped.set(id, Date.now()), (k * (o.windowMs - 4_000)) / victims.length);
    await sleep(o.windowMs);
    const cpu1 = cpuSeconds(collector.proc.pid)!;
    const beats1 = await scrape(collector.url, 'sb_collector_heartbeats_total');
    const wall = (Date.now() - w0) / 1000;
    const deadline = Date.now() + 6_000;
    while (Date.now() < deadline && victims.some((v) => !downs.has(v))) await sleep(100);
    loop.stop();
    const share = (cpu1 - cpu0) / wall;
    const latencies = victims.filter((v) => downs.has(v)).map((v) => (downs.get(v)! - loop.lastBeat.get(v)!) / 1000);
    const falseDowns = [...downs.keys()].filter((id) => !stopped.has(id)).length;
    const simLate = loop.maxLateMs();
    if (process.env.BENCH_FLEET_DEBUG) {
      for (const id of [...downs.keys()].filter((x) => !stopped.has(x)).slice(0, 8)) log(`false down ${id}: at +${downs.get(id)! - w0} ms, ${downs.get(id)! - loop.lastBeat.get(id)!} ms after its last beat`);
    }
    log(`fleet: collector CPU ${share.toFixed(3)} of a core at ${Math.round((beats1 - beats0) / wall)} beats/s; detection p50 ${pct(latencies, 0.5).toFixed(2)} s p99 ${pct(latencies, 0.99).toFixed(2)} s`);

    // Floor: the same heartbeats (headers included) from plain nats.js to a plain subscriber process.
    const floorLoop = beatLoop(platform, ids, new Map(), (id) => `floor.heartbeat.${id}`, sessions);
    loops.push(floorLoop);
    await sleep(2_000);
    const f0 = cpuSeconds(floor.pid)!;
    const fw0 = Date.now();
    await sleep(o.windowMs / 2);
    const floorShare = (cpuSeconds(floor.pid)! - f0) / ((Date.now() - fw0) / 1000);
    floorLoop.stop();
    lines.push(
      `Heartbeats: ${o.agents} simulated agents at 1 Hz through one metrics-collector: ${share.toFixed(3)} of one core (target ≤ 0.5) at ${Math.round((beats1 - beats0) / wall)} beats/s;` +
        ` raw floor (plain nats.js subscriber decoding the same beats) ${floorShare.toFixed(3)} of a core — ${(share / floorShare).toFixed(1)}× the floor's CPU.`,
    );
    lines.push(
      `Detection: ${latencies.length} of ${victims.length} agents stopped during the window reported down, from their last heartbeat (a kill right after a beat, the worst case): p50 ${pct(latencies, 0.5).toFixed(2)} s, p99 ${pct(latencies, 0.99).toFixed(2)} s, max ${Math.max(...latencies).toFixed(2)} s (target p99 ≤ 3 s; threshold 2.5 × 1 s); ${falseDowns} false downs in the window (the simulator's beats ran at most ${simLate} ms late).`,
    );

    // 2. Metric ingestion: 20 agents × batches of 500 samples, as fast as the publisher can.
    const reporters = ids.slice(0, 20);
    const size = 500;
    const rounds = 200;
    const acc0 = await scrape(collector.url, 'sb_collector_samples_total');
    const drop0 = await scrape(collector.url, 'sb_collector_samples_dropped_total');
    const i0 = Date.now();
    for (let r = 1; r <= rounds; r++) {
      for (const id of reporters) nc.publish(n.agents.metrics(id), batch(id, r, size), { headers: sessions.get(id) });
      if (r % 10 === 0) await nc.flush();
    }
    const expected = rounds * reporters.length * size;
    let got = 0;
    let lastChange = Date.now();
    let lastAt = Date.now();
    while (got < expected && Date.now() - lastChange < 3_000) {
      const now = (await scrape(collector.url, 'sb_collector_samples_total')) - acc0;
      if (now !== got) {
        got = now;
        lastChange = Date.now();
        lastAt = lastChange;
      }
      await sleep(20);
    }
    const dropped = (await scrape(collector.url, 'sb_collector_samples_dropped_total')) - drop0;
    const rate = got / ((lastAt - i0) / 1000);
    // Floor: the same batches to the plain subscriber.
    const fi0 = Date.now();
    const countBefore = Number((await platform.request('floor.count', '', { timeout: 5_000 })).string());
    for (let r = 1; r <= rounds; r++) {
      for (const id of reporters) platform.publish(`floor.heartbeat.${id}`, batch(id, r, size), { headers: sessions.get(id) });
      if (r % 10 === 0) await platform.flush();
    }
    const target = countBefore + rounds * reporters.length;
    let fcount = countBefore;
    while (fcount < target && Date.now() - fi0 < 60_000) {
      fcount = Number((await platform.request('floor.count', '', { timeout: 5_000 })).string());
      if (fcount < target) await sleep(10);
    }
    const floorRate = ((fcount - countBefore) * size) / ((Date.now() - fi0) / 1000);
    log(`fleet: ingestion ${Math.round(rate)} samples/s (floor ${Math.round(floorRate)}/s)`);
    lines.push(
      `Metric ingestion: ${got} of ${expected} samples in batches of ${size} (10% histograms) accepted at ${Math.round(rate)} samples/s (target ≥ 200,000/s), ${dropped} dropped;` +
        ` raw floor (plain subscriber decoding the same batches) ${Math.round(floorRate)} samples/s — ${(rate / floorRate).toFixed(2)}× floor.`,
    );
  } finally {
    for (const l of loops) l.stop();
    await nc.drain().catch(() => undefined);
    await platform.drain().catch(() => undefined);
    floor.kill('SIGKILL');
    await collector.proc.stop(5_000);
    await auth.proc.stop(5_000);
  }
  return { lines };
}

if (require.main === module) {
  runStandalone('fleet-heartbeats', { redis: true }, ({ nats, redisUrl, log }) => fleetHeartbeatsBench(nats, redisUrl!, { agents: Number(process.env.BENCH_FLEET_AGENTS ?? 10_000), windowMs: Number(process.env.BENCH_FLEET_WINDOW_MS ?? 10_000), stopped: Number(process.env.BENCH_FLEET_STOPPED ?? 100) }, log));
}
