/**
 * `npm run bench`: Switchboard's hot paths measured side by side with their raw floors, on a
 * nats-server and redis-server of the bench's own (free ports, temp dirs), so it never shares
 * state with a running stack. Writes docs/benchmarks.md and prints the same tables. Targets
 * are reported, not enforced; the exit code is non-zero only if the bench itself could not run.
 *
 * Env: BENCH_DURATION_MS (measured window, default 3000), BENCH_WARMUP_MS (default 1000),
 * BENCH_CONCURRENCY (the "high" concurrency, default 64), BENCH_ROUNDS (internal-call rounds,
 * default 5; the median round is reported), BENCH_AUTH_RATE (open-loop rate of the auth + limits
 * rows, default 5000/s).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { names } from '@sb/contracts';
import { findFreePort, startNatsServer, startRedisServer, whichBinary } from '../../libs/testing/src/local-servers';
import { authLimitsBench } from './auth-limits';
import { notificationDeliveryBench } from './notification-delivery';
import { fleetHeartbeatsBench } from './fleet-heartbeats';
import { resilienceBench } from './resilience';
import { recoveryBench } from './recovery-reclaim';
import { alertingLatencyBench } from './alerting-latency';
import { CpuSampler, cpuPerOp } from './cpu';
import { type Fleet, readIdleRss, startFleet } from './fleet-procs';
import { startJetStreamFloor, type Target } from './floor';
import { startNestClientProxy, startPlainRequestReply, startSwitchboardBus } from './internal-calls';
import { type BenchSettings, benchSettings, closedLoop, type LoadResult, withTimeout } from './measure';
import { renderMarkdown } from './markdown';
import { type AuthLimitsRow, type CpuRow, machineFacts, type Report, type Row, type StageRow, textTables, type TrafficRow } from './report';
import { scrapeConnz, type TrafficSnapshot, trafficPerOp } from './nats-traffic';
import { type FleetSnapshot, scrapeFleet, type ServiceUrls, windowMean } from './server-metrics';
import { primeFleet, StageRecorder, startHttpRoundTrip, startNatsRoundTrip, startNodeHttpRoundTrip, tenantWithKey } from './round-trips';
import { spanCostMicros, tracingOverhead } from './tracing';

const REPO = join(__dirname, '../../..');
const DOC = join(REPO, 'docs', 'benchmarks.md');
const PREFIX = 'sbbench';
const RSS_TARGET_MIB = 150;
const IDLE_CPU_WINDOW_MS = 10_000;
const IDLE_SETTLE_MS = 2_000;

const log = (msg: string): void => void process.stdout.write(`bench: ${msg}\n`);
const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Closers run in reverse order, each bounded, once — on success, error, or a signal. */
class Cleanup {
  private readonly steps: Array<{ name: string; fn: () => Promise<unknown> }> = [];
  private done?: Promise<void>;
  add(name: string, fn: () => Promise<unknown>): void {
    this.steps.push({ name, fn });
  }
  run(): Promise<void> {
    this.done ??= (async () => {
      for (const s of this.steps.reverse()) {
        await withTimeout(Promise.resolve().then(s.fn), 10_000, `stopping ${s.name}`).catch((e) => log(`cleanup of ${s.name}: ${errText(e)}`));
      }
    })();
    return this.done;
  }
}
const cleanup = new Cleanup();

interface Window {
  result?: LoadResult;
  failure?: string;
  cpu?: Map<string, number>;
  traffic?: TrafficRow['perOp'];
  before?: FleetSnapshot;
  after?: FleetSnapshot;
}

/** Processes whose CPU is sampled around every window (the target adds its own). */
let basePids: () => Record<string, number | undefined> = () => ({ 'bench client': process.pid });
/** The bench nats-server's monitoring endpoint (connection message counts). */
let natsMonitorUrl = '';

async function measure(settings: BenchSettings, name: string, target: Target, c: number, opts: { reset?: () => void; metricsUrls?: ServiceUrls } = {}): Promise<Window> {
  const sampler = new CpuSampler(() => ({ ...basePids(), ...target.pids }));
  const w: Window = {};
  let cpuBefore = new Map<string, number>();
  let connzBefore: TrafficSnapshot = new Map();
  const onMeasureStart = async () => {
    opts.reset?.();
    if (opts.metricsUrls) w.before = await scrapeFleet(opts.metricsUrls);
    connzBefore = await scrapeConnz(natsMonitorUrl);
    cpuBefore = sampler.sample();
  };
  const bound = settings.warmupMs + settings.durationMs + 30_000;
  try {
    const r = await withTimeout(closedLoop(target.op, { concurrency: c, durationMs: settings.durationMs, warmupMs: settings.warmupMs, onMeasureStart }), bound, `${name} c=${c}`);
    w.cpu = cpuPerOp(cpuBefore, sampler.sample(), r.ops);
    w.traffic = trafficPerOp(connzBefore, await scrapeConnz(natsMonitorUrl), r.ops);
    if (opts.metricsUrls) w.after = await scrapeFleet(opts.metricsUrls);
    w.result = r;
    log(`${name} c=${c}: ${Math.round(r.throughput)} ops/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.errors} errors${r.firstError ? ` (first: ${r.firstError})` : ''}`);
  } catch (e) {
    log(`${name} c=${c} failed: ${errText(e)}`);
    w.failure = errText(e).slice(0, 160);
  }
  return w;
}

async function startTarget(name: string, start: () => Promise<Target>, notes: string[]): Promise<Target | undefined> {
  try {
    const t = await start();
    cleanup.add(name, () => t.close());
    return t;
  } catch (e) {
    log(`${name} could not start: ${errText(e)}`);
    notes.push(`${name} could not start: ${errText(e).split('\n')[0].slice(0, 200)}`);
    return undefined;
  }
}

function natsChecks(c: number, hi: number, r: LoadResult | undefined, floor: LoadResult | undefined): Row['checks'] {
  if (c === 1) return [{ label: 'p50 ≤ 3 ms', pass: r ? r.p50 <= 3 : undefined }];
  if (c !== hi) return [];
  return [
    { label: '≥ 0.50× floor ops/s', pass: r && floor ? r.throughput / floor.throughput >= 0.5 : undefined },
    { label: 'p99 ≤ 2× floor p99', pass: r && floor ? r.p99 <= 2 * floor.p99 : undefined },
  ];
}

type Out = { rows: Row[]; stages: StageRow[]; cpu: CpuRow[]; traffic: TrafficRow[]; authLimits: AuthLimitsRow[]; notes: string[] };

function recordUsage(out: Out, name: string, c: number, w: Window, traffic = true): void {
  if (w.cpu) out.cpu.push({ name, concurrency: c, perOp: w.cpu });
  if (traffic && w.traffic?.size) out.traffic.push({ name, concurrency: c, perOp: w.traffic });
}

const cpuTotal = (w: Window): number | undefined => (w.cpu?.size ? [...w.cpu.values()].reduce((a, b) => a + b, 0) : undefined);

async function roundTrips(s: BenchSettings, fleet: Fleet, natsUrl: string, key: string, out: Out): Promise<void> {
  const hi = s.highConcurrency;
  const n = names(PREFIX);
  const floor = await startTarget('JetStream floor', () => startJetStreamFloor(natsUrl), out.notes);
  const natsStages = new StageRecorder();
  const httpStages = new StageRecorder();
  const nodeHttpStages = new StageRecorder();
  const natsRt = await startTarget('NATS round trip', () => startNatsRoundTrip(natsUrl, PREFIX, key, natsStages), out.notes);
  if (natsRt) {
    await primeFleet(natsRt.op, 30_000).catch((e: unknown) => {
      const tails = fleet.services.filter((x) => !x.optional).map((x) => `--- ${x.name} (${x.proc.describeExit()}) output tail ---\n${x.proc.outputTail()}`);
      throw new Error(`${errText(e)}\n${tails.join('\n')}`);
    });
  }
  const http = startHttpRoundTrip(fleet.gatewayUrl, key, httpStages);
  const nodeHttp = startNodeHttpRoundTrip(fleet.gatewayUrl, key, nodeHttpStages);
  cleanup.add('node:http agent', () => nodeHttp.close());
  const urls: ServiceUrls = Object.fromEntries(fleet.services.filter((x) => !x.optional).map((x) => [x.name, x.url]));
  const floorName = 'plain nats.js JetStream publish → pull → reply';

  for (const c of [1, hi]) {
    const f: Window = floor ? await measure(s, 'JetStream floor', floor, c) : { failure: 'did not start' };
    out.rows.push({ group: 'Task round trip', name: floorName, concurrency: c, result: f.result, failure: f.failure, cpuMs: cpuTotal(f), checks: [] });
    recordUsage(out, `${floorName} (floor)`, c, f);
    const variants: Array<[string, Target | undefined, StageRecorder, string]> = [
      ['NATS (submit, wait)', natsRt, natsStages, n.tasks.submit],
      ['HTTP (POST /v1/tasks, wait; client: fetch)', http, httpStages, 'POST /v1/tasks'],
      ['HTTP (POST /v1/tasks, wait; client: node:http)', nodeHttp, nodeHttpStages, 'POST /v1/tasks'],
    ];
    for (const [label, t, rec, handlerKey] of variants) {
      const w: Window = t ? await measure(s, `round trip over ${label}`, t, c, { reset: () => rec.reset(), metricsUrls: urls }) : { failure: 'did not start' };
      const req = (svc: string, key: string) => (w.before && w.after ? windowMean(w.before, w.after, svc, key) : undefined);
      const rq = (svc: string, subject: string) => req(svc, `sb_request_duration_seconds|${subject}`);
      out.stages.push({
        name: label,
        concurrency: c,
        stages: rec.means(),
        clientMeanMs: w.result?.mean,
        server: { gatewayHandler: rq('gateway', handlerKey), admit: rq('tenancy', n.internal.admit), authorize: rq('auth', n.internal.authorize), workerTask: req('agent-worker', 'sb_worker_task_duration_seconds|echo') },
      });
      const checks = label.startsWith('NATS') ? natsChecks(c, hi, w.result, f.result) : [];
      out.rows.push({ group: 'Task round trip', name: `Switchboard over ${label}`, concurrency: c, result: w.result, failure: w.failure, cpuMs: cpuTotal(w), floor: f.result, floorName: 'JetStream', checks });
      recordUsage(out, `Switchboard over ${label}`, c, w);
    }
  }
}

/** Internal calls: all three targets up at once, measured in rotating order for several rounds; the median round counts. */
async function internalCalls(s: BenchSettings, natsUrl: string, out: Out): Promise<void> {
  const hi = s.highConcurrency;
  const defs: Array<[string, () => Promise<Target>]> = [
    ['plain nats.js request-reply', () => startPlainRequestReply(natsUrl)],
    ['Switchboard Bus.request → @MessagePattern on SbTransport (authorize)', () => startSwitchboardBus(natsUrl)],
    ['Nest stock ClientProxy → @MessagePattern', () => startNestClientProxy(natsUrl)],
  ];
  const targets = await Promise.all(defs.map(([name, start]) => startTarget(name, start, out.notes)));
  const windows: Window[][] = defs.map(() => []);
  for (let round = 0; round < s.rounds; round++) {
    for (let k = 0; k < defs.length; k++) {
      const i = (round + k) % defs.length;
      const t = targets[i];
      windows[i].push(t ? await measure(s, `${defs[i][0]} (round ${round + 1})`, t, hi) : { failure: 'did not start' });
    }
  }
  const median = (ws: Window[]): Window => {
    const ok = ws.filter((w) => w.result).sort((a, b) => a.result!.throughput - b.result!.throughput);
    return ok.length ? ok[Math.floor((ok.length - 1) / 2)] : (ws[0] ?? { failure: 'not measured' });
  };
  const picked = windows.map(median);
  const plain = picked[0].result;
  defs.forEach(([name], i) => {
    const w = picked[i];
    const isFloor = i === 0;
    const checks = i === 1 ? [{ label: '≥ 0.95× floor ops/s', pass: w.result && plain ? w.result.throughput / plain.throughput >= 0.95 : undefined }] : [];
    out.rows.push({ group: 'Internal call', name, concurrency: hi, result: w.result, failure: w.failure, cpuMs: cpuTotal(w), ...(isFloor ? {} : { floor: plain, floorName: 'request-reply' }), checks });
    recordUsage(out, `${name}${isFloor ? ' (floor)' : ''}`, hi, w, false);
  });
  const spread = windows.map((ws, i) => `${defs[i][0]}: ${ws.map((w) => (w.result ? Math.round(w.result.throughput) : 'failed')).join(' / ')}`);
  out.notes.push(`Internal calls ran ${s.rounds} rounds in rotating order; the median round by throughput is reported. Every round's ops/s — ${spread.join('; ')}.`);
  out.rows.push({ group: 'Internal call', name: 'Moleculer over NATS', concurrency: hi, failure: 'not measured (moleculer is not installed)', floor: plain, floorName: 'request-reply', checks: [] });
}

/** Issue 3: what auth + the submit gate add per request, and the rate check vs a raw EVALSHA loop. A failure here is a note, not a failed bench. */
async function authAndLimits(s: BenchSettings, fleet: Fleet, natsUrl: string, redisUrl: string, key: string, out: Out): Promise<void> {
  try {
    const r = await authLimitsBench({
      settings: s,
      natsUrl,
      redisUrl,
      prefix: PREFIX,
      gatewayUrl: fleet.gatewayUrl,
      key,
      pids: () => basePids(),
      log,
      onClose: (name, fn) => cleanup.add(name, fn),
      rate: s.authRate,
    });
    out.authLimits.push(...r.rows);
    out.cpu.push(...r.cpu);
    out.notes.push(...r.notes);
  } catch (e) {
    log(`auth + limits bench could not run: ${errText(e)}`);
    out.notes.push(`The auth + limits rows could not run: ${errText(e).split('\n')[0].slice(0, 200)}`);
  }
}

async function main(): Promise<void> {
  const settings = benchSettings(process.env);
  const hi = settings.highConcurrency;
  const out: Out = { rows: [], stages: [], cpu: [], traffic: [], authLimits: [], notes: [] };
  const load = loadavg()[0];

  log('starting a private nats-server (JetStream) and redis-server');
  const monitorPort = await findFreePort('127.0.0.1');
  const nats = await startNatsServer({ extraArgs: ['-m', String(monitorPort)] });
  natsMonitorUrl = `http://127.0.0.1:${monitorPort}`;
  cleanup.add('nats-server', () => nats.destroy());
  const redis = await startRedisServer();
  cleanup.add('redis-server', () => redis.destroy());
  const facts = machineFacts(whichBinary('nats-server') ?? 'nats-server', whichBinary('redis-server') ?? 'redis-server');
  log(`${facts.nproc} CPUs, ${facts.cpu}, node ${facts.node}, nats-server ${facts.natsServer}, load average ${load.toFixed(2)}`);

  log('starting the fleet (child processes from dist/apps)');
  const adminKey = `sb_admin_bench_${randomBytes(16).toString('hex')}`;
  const fleet = await startFleet({ repoRoot: REPO, natsUrl: nats.url, redisUrl: redis.url, prefix: PREFIX, adminKey, workerConcurrency: hi });
  cleanup.add('fleet', () => fleet.stop());
  for (const f of fleet.failures) out.notes.push(`${f.name} did not start, so it has no memory reading: ${f.error}`);

  await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
  const rss = readIdleRss(fleet);
  log(`idle RSS: ${rss.map((r) => `${r.name} ${r.rssMiB?.toFixed(1) ?? '?'} MiB`).join(', ')}`);
  out.notes.push(await idleFleetCpu(fleet));
  const offPath = fleet.services.filter((x) => x.optional).map((x) => x.name);
  await fleet.stop(offPath);
  out.notes.push(`${offPath.join(', ')} were measured for memory and then stopped: they are not on the task path and would only compete for CPU.`);
  out.notes.push(`The gateway runs with TENANT_SUBMIT_RATE=1000000 so the (still consulted) per-tenant rate limit never refuses the bench; one agent-worker with WORKER_AGENTS=echo, WORKER_CONCURRENCY=${hi}.`);
  out.notes.push(`Load average (1 min) when the bench started: ${load.toFixed(2)} on ${facts.nproc} CPUs; anything else running on the machine shows up in every row.`);
  basePids = () => ({
    'bench client': process.pid,
    'nats-server': nats.pid,
    'redis-server': redis.pid,
    ...Object.fromEntries(fleet.services.filter((x) => !x.optional && !x.proc.exit).map((x) => [x.name, x.proc.pid])),
  });

  const { key } = await tenantWithKey(fleet.gatewayUrl, adminKey);
  await roundTrips(settings, fleet, nats.url, key, out);
  await internalCalls(settings, nats.url, out);
  await authAndLimits(settings, fleet, nats.url, redis.url, key, out);
  // Tracing (issue 4): CPU per task with tracing off / on / sampled at 10 %, on fleets of their own. A failure is a note.
  await tracingOverhead({ settings, natsUrl: nats.url, natsPid: nats.pid, redisUrl: redis.url, repoRoot: REPO, log }).then(
    (rows) => {
      for (const r of rows) out.rows.push({ group: 'Tracing overhead (NATS submit-and-wait)', name: r.mode, concurrency: r.concurrency, result: r.result, failure: r.failure, cpuMs: r.cpuMs, floor: r.floor, floorName: 'JetStream', checks: [] });
      out.notes.push('Tracing overhead rows: three extra fleets (tracing off, on, on at 10 %) side by side, measured in rotating order; CPU counts the fleet and nats-server, not the bench client.');
    },
    (e: unknown) => out.notes.push(`Tracing overhead could not run: ${errText(e).split('\n')[0].slice(0, 200)}`),
  );
  await spanCostMicros().then(
    (c) => out.notes.push(`Tracing, per span in process: ${c.enabledUs.toFixed(2)} µs CPU traced vs ${c.disabledUs.toFixed(2)} µs with TRACING_ENABLED=false (start, context, end, batch, encode); ${Math.round(c.bytesPerSpan)} bytes per span to the span stream. A NATS task records about 4 spans (gateway 3, worker 1).`),
    (e: unknown) => out.notes.push(`Tracing span cost could not run: ${errText(e).split('\n')[0].slice(0, 200)}`),
  );
  // Fleet telemetry (issue 4): 10k agents heartbeating through one collector, detection latency, metric ingestion, vs plain nats.js. A failure is a note.
  await fleetHeartbeatsBench(nats.url, redis.url, { agents: 10_000, windowMs: 10_000, stopped: 100 }, log).then(
    (r) => out.notes.push(...r.lines),
    (e: unknown) => out.notes.push(`Fleet telemetry bench could not run: ${errText(e).split('\n')[0].slice(0, 200)}`),
  );
  // Notification channels (issue 4): enqueue → receiver, vs one stream + consume + fetch. A failure is a note.
  await notificationDeliveryBench(nats.url, settings, log).then(
    (r) => out.notes.push(...r.lines),
    (e: unknown) => out.notes.push(`Notification delivery could not run: ${errText(e).split('\n')[0].slice(0, 200)}`),
  );
  // Breakers, shedding, dead letters (issue 5): outcome reporting, intake check, dead-letter list vs raw floors. A failure is a note.
  await resilienceBench(nats.url, settings, log).then(
    (r) => out.notes.push(...r.lines),
    (e: unknown) => out.notes.push(`Resilience bench could not run: ${errText(e).split('\n')[0].slice(0, 200)}`),
  );
  // Recovery (issue 5): kill → tasks running again p50/p99 over repeated kills, throughput dip, vs NAK floor and ack_wait. A failure is a note.
  await recoveryBench(nats.url, redis.url, { kills: 8 }, log).then(
    (r) => out.notes.push(...r.lines),
    (e: unknown) => out.notes.push(`Recovery bench could not run: ${errText(e).split('\n')[0].slice(0, 200)}`),
  );
  // Alerting (issue 4): breach sample → published AlertEvent, vs one core-NATS hop. A failure is a note.
  await alertingLatencyBench(nats.url, settings, log).then(
    (r) => out.notes.push(...r.lines),
    (e: unknown) => out.notes.push(`Breach-to-alert latency could not run: ${errText(e).split('\n')[0].slice(0, 200)}`),
  );

  const report: Report = { facts, settings, rows: out.rows, rss, rssTargetMiB: RSS_TARGET_MIB, stages: out.stages, cpu: out.cpu, traffic: out.traffic, authLimits: out.authLimits, notes: out.notes };
  mkdirSync(join(REPO, 'docs'), { recursive: true });
  writeFileSync(DOC, renderMarkdown(report));
  process.stdout.write(`\n${textTables(report)}\n`);
  log(`wrote ${DOC}`);
}

function exitAfterCleanup(code: number): void {
  void cleanup.run().finally(() => process.exit(code));
}

process.once('SIGINT', () => {
  log('interrupted; stopping everything');
  exitAfterCleanup(130);
});
process.once('SIGTERM', () => exitAfterCleanup(143));
process.on('unhandledRejection', (e) => log(`unhandled rejection: ${errText(e)}`));

main().then(
  () => exitAfterCleanup(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    exitAfterCleanup(1);
  },
);

/** CPU of the whole idle fleet (every service, no load) over IDLE_CPU_WINDOW_MS, in cores; target about 0.1. */
async function idleFleetCpu(fleet: Fleet): Promise<string> {
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
  return `Idle fleet CPU (${per.length} services, no load, ${Math.round(seconds)} s): ${total.toFixed(3)} cores — ${detail} (target about 0.1 core${total <= 0.1 ? ', met' : ', **NO**'}).`;
}
