/**
 * The hot path (issue 13): the task round trip over NATS and HTTP beside the raw JetStream floor
 * and BullMQ (the peer), the internal service call beside plain request-reply, the idle fleet's
 * CPU, and the targets judged from them, all in one run with NATS authentication on. `npm run
 * bench` runs it first; alone, `node dist/test/bench/hot-path.js` (after `npm run build`) runs
 * just this part on servers and a fleet of its own and prints its tables, without writing
 * docs/benchmarks.md. Same BENCH_* settings as the full bench.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { generateApiKey, names } from '@sb/contracts';
import { findFreePort, type ServerHandle, startRedisServer } from '../../libs/testing/src/local-servers';
import { type BenchNats, startBenchNats } from './bench-nats';
import { startBullmqPeer } from './bullmq-peer';
import { CpuSampler } from './cpu';
import { type Fleet, readIdleRss, type RssReading, startFleet } from './fleet-procs';
import { startJetStreamFloor, type Target } from './floor';
import { startNestClientProxy, startPlainRequestReply, startSwitchboardBus } from './internal-calls';
import { benchSettings } from './measure';
import { cpuTable, resultsTable, targetsTable, trafficTable } from './report';
import { primeFleet, StageRecorder, startHttpRoundTrip, startNatsRoundTrip, startNodeHttpRoundTrip, tenantNatsClient, tenantWithKey } from './round-trips';
import { type ServiceUrls, windowMean } from './server-metrics';
import { BenchSession, cpuTotal, errText, log, newOut, type Out, recordUsage, type Window } from './session';
import { checksOf, hotPathTargets, type TargetRow } from './targets';

const IDLE_CPU_WINDOW_MS = 10_000;
const IDLE_SETTLE_MS = 2_000;

/** The bench's servers and fleet, and a tenant's API key on it. */
export interface HotPathStack {
  prefix: string;
  nats: BenchNats;
  redis: ServerHandle;
  fleet: Fleet;
  adminKey: string;
  /** An API key of a tenant whose limits never refuse the bench (tasks:submit, tasks:read). */
  key: string;
  rss: RssReading[];
  idleCores: number;
}

/**
 * nats-server (operator mode) and redis-server of the run's own, the fleet from dist/apps, its
 * idle memory and CPU (the off-path services then stopped), and the session's CPU watch set.
 */
export async function startHotPathStack(session: BenchSession, repoRoot: string, prefix: string, out: Out): Promise<HotPathStack> {
  const hi = session.settings.highConcurrency;
  const load = loadavg()[0];
  log('starting a private nats-server (JetStream, operator mode: NATS authentication on) and redis-server');
  const monitorPort = await findFreePort('127.0.0.1');
  const nats = await startBenchNats({ monitorPort });
  session.natsMonitorUrl = `http://127.0.0.1:${monitorPort}`;
  session.cleanup.add('nats-server', () => nats.destroy());
  const redis = await startRedisServer();
  session.cleanup.add('redis-server', () => redis.destroy());

  log('starting the fleet (child processes from dist/apps)');
  const adminKey = generateApiKey();
  const fleet = await startFleet({ repoRoot, nats, redisUrl: redis.url, prefix, adminKey, workerConcurrency: hi });
  session.cleanup.add('fleet', () => fleet.stop());
  for (const f of fleet.failures) out.notes.push(`${f.name} did not start, so it has no memory reading: ${f.error}`);

  await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
  const rss = readIdleRss(fleet);
  log(`idle RSS: ${rss.map((r) => `${r.name} ${r.rssMiB?.toFixed(1) ?? '?'} MiB`).join(', ')}`);
  const idle = await idleFleetCpu(fleet);
  out.notes.push(idle.note);
  const offPath = fleet.services.filter((x) => x.optional).map((x) => x.name);
  await fleet.stop(offPath);
  out.notes.push(`${offPath.join(', ')} were measured for memory and then stopped: they are not on the task path and would only compete for CPU.`);
  out.notes.push(
    'The gateway runs with TENANT_SUBMIT_RATE=1000000 so the (still consulted) per-tenant rate limit never refuses the bench, ' +
      `and PREAUTH_BURST=100000 (a request holds one of its source's pre-authentication tokens while it is authenticated, and the bench's ${hi} in flight from one client would exceed the default 50); ` +
      `one agent-worker with WORKER_AGENTS=echo, WORKER_CONCURRENCY=${hi}.`,
  );
  out.notes.push(`Load average (1 min) when the bench started: ${load.toFixed(2)}; anything else running on the machine shows up in every row.`);
  out.notes.push(
    `NATS authentication on (operator mode): services as their own users, the agent-worker as a pool agent, the NATS round-trip client as the tenant's user (its account, its inbox). ` +
      `CPU ms/op of the JetStream floor counts the bench client, its worker and nats-server; BullMQ's the bench client, its worker and redis-server; Switchboard's rows every process of the stack.`,
  );
  session.basePids = () => ({
    'bench client': process.pid,
    'nats-server': nats.pid,
    'redis-server': redis.pid,
    ...Object.fromEntries(fleet.services.filter((x) => !x.optional && !x.proc.exit).map((x) => [x.name, x.proc.pid])),
  });
  const { key } = await tenantWithKey(fleet.gatewayUrl, adminKey);
  return { prefix, nats, redis, fleet, adminKey, key, rss, idleCores: idle.cores };
}

/** The round trips, the internal calls, then the targets judged from them. */
export async function runHotPath(session: BenchSession, stack: HotPathStack, out: Out): Promise<TargetRow[]> {
  await roundTrips(session, stack, out);
  await internalCalls(session, stack.nats, out);
  return judgeHotPath(out, session.settings.highConcurrency, stack.idleCores);
}

const ROUND_TRIP = 'Task round trip';
const FLOOR_NAME = 'plain nats.js JetStream publish → pull → reply';
const PEER_NAME = 'BullMQ 6 (Queue.add + job.waitUntilFinished; Worker in its own process)';
const VIA = { nats: 'NATS (submit, wait)', fetch: 'HTTP (POST /v1/tasks, wait; client: fetch)', nodeHttp: 'HTTP (POST /v1/tasks, wait; client: node:http)' };
const INTERNAL_NAME = 'Switchboard Bus.request → @MessagePattern on SbTransport (authorize)';

async function roundTrips(session: BenchSession, stack: HotPathStack, out: Out): Promise<void> {
  const { fleet, nats, key, prefix } = stack;
  const hi = session.settings.highConcurrency;
  const n = names(prefix);
  const floor = await session.startTarget('JetStream floor', () => startJetStreamFloor(nats), out.notes);
  const peer = await session.startTarget('BullMQ', () => startBullmqPeer(stack.redis.url, hi), out.notes);
  const natsStages = new StageRecorder();
  const httpStages = new StageRecorder();
  const nodeHttpStages = new StageRecorder();
  // The tenant's own NATS user (its account, its private inbox), as a user's client connects.
  const tenantClient = () => tenantNatsClient(nats.url, fleet.gatewayUrl, key);
  const natsRt = await session.startTarget('NATS round trip', async () => startNatsRoundTrip(await tenantClient(), prefix, key, natsStages), out.notes);
  if (natsRt) {
    await primeFleet(natsRt.op, 30_000).catch((e: unknown) => {
      const tails = fleet.services.filter((x) => !x.optional).map((x) => `--- ${x.name} (${x.proc.describeExit()}) output tail ---\n${x.proc.outputTail()}`);
      throw new Error(`${errText(e)}\n${tails.join('\n')}`);
    });
  }
  const http = startHttpRoundTrip(fleet.gatewayUrl, key, httpStages);
  const nodeHttp = startNodeHttpRoundTrip(fleet.gatewayUrl, key, nodeHttpStages);
  session.cleanup.add('node:http agent', () => nodeHttp.close());
  const urls: ServiceUrls = Object.fromEntries(fleet.services.filter((x) => !x.optional).map((x) => [x.name, x.opsUrl ?? x.url]));

  for (const c of [1, hi]) {
    // The floor and the peer are charged their own processes only, not the idle fleet's.
    const notStarted: Window = { failure: 'did not start' };
    const f = floor ? await session.measure('JetStream floor', floor, c, { processes: ['bench client', 'nats-server'] }) : notStarted;
    const b = peer ? await session.measure('BullMQ', peer, c, { processes: ['bench client', 'redis-server'] }) : notStarted;
    const measured = (w: Window) => ({ result: w.result, failure: w.failure, cpuMs: cpuTotal(w) });
    out.rows.push({ group: ROUND_TRIP, name: FLOOR_NAME, concurrency: c, ...measured(f), peer: b.result, checks: [] });
    recordUsage(out, `${FLOOR_NAME} (floor)`, c, f);
    out.rows.push({ group: ROUND_TRIP, name: PEER_NAME, concurrency: c, ...measured(b), floor: f.result, floorName: 'JetStream', isPeer: true, checks: [] });
    recordUsage(out, `${PEER_NAME} (peer)`, c, b, false);
    const variants: Array<[string, Target | undefined, StageRecorder, string]> = [
      [VIA.nats, natsRt, natsStages, n.tasks.submit],
      [VIA.fetch, http, httpStages, 'POST /v1/tasks'],
      [VIA.nodeHttp, nodeHttp, nodeHttpStages, 'POST /v1/tasks'],
    ];
    for (const [label, t, rec, handlerKey] of variants) {
      const w: Window = t ? await session.measure(`round trip over ${label}`, t, c, { reset: () => rec.reset(), metricsUrls: urls }) : { failure: 'did not start' };
      const req = (svc: string, key: string) => (w.before && w.after ? windowMean(w.before, w.after, svc, key) : undefined);
      const rq = (svc: string, subject: string) => req(svc, `sb_request_duration_seconds|${subject}`);
      out.stages.push({
        name: label,
        concurrency: c,
        stages: rec.means(),
        clientMeanMs: w.result?.mean,
        server: { gatewayHandler: rq('gateway', handlerKey), admit: rq('tenancy', n.internal.admit), authorize: rq('auth', n.internal.authorize), workerTask: req('agent-worker', 'sb_worker_task_duration_seconds|echo') },
      });
      out.rows.push({ group: ROUND_TRIP, name: `Switchboard over ${label}`, concurrency: c, result: w.result, failure: w.failure, cpuMs: cpuTotal(w), floor: f.result, floorName: 'JetStream', peer: b.result, checks: [] });
      recordUsage(out, `Switchboard over ${label}`, c, w);
    }
  }
}

/** Issue 13's targets from this run's rows; each judged row gets its verdicts as checks. */
function judgeHotPath(out: Out, hi: number, idleCores: number | undefined): TargetRow[] {
  const find = (group: string, name: string, c: number) => out.rows.find((r) => r.group === group && r.name === name && r.concurrency === c);
  const rt = (name: string, c: number) => find(ROUND_TRIP, name, c);
  const natsName = `Switchboard over ${VIA.nats}`;
  const httpName = `Switchboard over ${VIA.nodeHttp}`;
  const targets = hotPathTargets({
    high: hi,
    names: { nats: natsName, http: httpName, internal: INTERNAL_NAME },
    nats: { low: rt(natsName, 1)?.result, high: rt(natsName, hi)?.result, highCpuMs: rt(natsName, hi)?.cpuMs },
    floor: { low: rt(FLOOR_NAME, 1)?.result, high: rt(FLOOR_NAME, hi)?.result },
    peer: { low: rt(PEER_NAME, 1)?.result, high: rt(PEER_NAME, hi)?.result },
    httpHigh: rt(httpName, hi)?.result,
    internal: find('Internal call', INTERNAL_NAME, hi)?.result,
    // The floor's window paired with Bus.request's reported round (internalCalls).
    requestReply: find('Internal call', INTERNAL_NAME, hi)?.floor,
    idleCores,
  });
  for (const r of out.rows) {
    const checks = checksOf(targets, r.name, r.concurrency);
    if (checks.length) r.checks = checks;
  }
  return targets;
}

/** Internal calls: all three targets up at once, measured in rotating order for several rounds; the median round counts. */
async function internalCalls(session: BenchSession, nats: BenchNats, out: Out): Promise<void> {
  const s = session.settings;
  const hi = s.highConcurrency;
  const defs: Array<[string, () => Promise<Target>]> = [
    ['plain nats.js request-reply', () => startPlainRequestReply(nats)],
    [INTERNAL_NAME, () => startSwitchboardBus(nats)],
    ['Nest stock ClientProxy → @MessagePattern', () => startNestClientProxy(nats)],
  ];
  const targets = await Promise.all(defs.map(([name, start]) => session.startTarget(name, start, out.notes)));
  const windows: Window[][] = defs.map(() => []);
  for (let round = 0; round < s.rounds; round++) {
    for (let k = 0; k < defs.length; k++) {
      const i = (round + k) % defs.length;
      const t = targets[i];
      windows[i].push(t ? await session.measure(`${defs[i][0]} (round ${round + 1})`, t, hi) : { failure: 'did not start' });
    }
  }
  // The floor: its median round by throughput. Each other path: paired with the floor's window of
  // the same round (measured back to back), the round of the median ratio, so drift in the
  // machine's speed between rounds falls on both sides of a ratio alike.
  const medianOf = <T>(xs: T[], by: (x: T) => number): T | undefined => xs.sort((a, b) => by(a) - by(b))[Math.floor((xs.length - 1) / 2)];
  const floorPick = medianOf(windows[0].filter((w) => w.result), (w) => w.result!.throughput) ?? windows[0][0] ?? { failure: 'not measured' };
  defs.forEach(([name], i) => {
    const isFloor = i === 0;
    let w = floorPick;
    let floor = floorPick.result;
    if (!isFloor) {
      const paired = windows[i].flatMap((own, r) => (own.result && windows[0][r]?.result ? [{ own, floor: windows[0][r].result! }] : []));
      const pick = medianOf(paired, (p) => p.own.result!.throughput / p.floor.throughput);
      w = pick?.own ?? windows[i][0] ?? { failure: 'not measured' };
      floor = pick?.floor ?? floorPick.result;
    }
    // Bus.request's target (≥ 0.95× the floor) is judged with the others (judgeHotPath).
    out.rows.push({ group: 'Internal call', name, concurrency: hi, result: w.result, failure: w.failure, cpuMs: cpuTotal(w), ...(isFloor ? {} : { floor, floorName: 'request-reply' }), checks: [] });
    recordUsage(out, `${name}${isFloor ? ' (floor)' : ''}`, hi, w, false);
  });
  const spread = windows.map((ws, i) => `${defs[i][0]}: ${ws.map((w) => (w.result ? Math.round(w.result.throughput) : 'failed')).join(' / ')}`);
  out.notes.push(
    `Internal calls ran ${s.rounds} rounds in rotating order. The floor's row is its median round by throughput; each other row is the round of its median ratio to the floor's window of the same round, and its ratio is to that window. Every round's ops/s — ${spread.join('; ')}.`,
  );
  out.rows.push({ group: 'Internal call', name: 'Moleculer over NATS', concurrency: hi, failure: 'not measured (moleculer is not installed)', floor: floorPick.result, floorName: 'request-reply', checks: [] });
}

/** CPU of the whole idle fleet (every service, no load) over IDLE_CPU_WINDOW_MS, in cores; target about 0.1. */
async function idleFleetCpu(fleet: Fleet): Promise<{ note: string; cores: number }> {
  const sampler = new CpuSampler(() => Object.fromEntries(fleet.services.filter((x) => !x.proc.exit).map((x) => [x.name, x.proc.pid])));
  const before = sampler.sample();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, IDLE_CPU_WINDOW_MS));
  const after = sampler.sample();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const per = [...after].map(([name, end]) => [name, (end - (before.get(name) ?? end)) / seconds] as const);
  const total = per.reduce((t, [, c]) => t + c, 0);
  log(`idle fleet CPU: ${total.toFixed(3)} cores`);
  const detail = per.map(([name, c]) => `${name} ${c.toFixed(3)}`).join(', ');
  const note = `Idle fleet CPU (${per.length} services, no load, ${Math.round(seconds)} s): ${total.toFixed(3)} cores — ${detail} (target about 0.1 core${total <= 0.1 ? ', met' : ', **NO**'}).`;
  return { note, cores: total };
}

async function main(): Promise<void> {
  const session = new BenchSession(benchSettings(process.env));
  const stop = (code: number) => void session.cleanup.run().finally(() => process.exit(code));
  process.once('SIGINT', () => stop(130));
  process.once('SIGTERM', () => stop(143));
  process.on('unhandledRejection', (e) => log(`unhandled rejection: ${errText(e)}`));
  try {
    const out = newOut();
    const stack = await startHotPathStack(session, join(__dirname, '../../..'), 'sbhot', out);
    const targets = await runHotPath(session, stack, out);
    const notes = out.notes.map((n) => `- ${n}`).join('\n');
    process.stdout.write(`\n${[resultsTable(out.rows), cpuTable(out.cpu), trafficTable(out.traffic), notes, targetsTable(targets)].join('\n\n')}\n`);
    stop(0);
  } catch (e) {
    process.stderr.write(`hot path bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    stop(1);
  }
}

if (require.main === module) void main();
