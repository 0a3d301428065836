/**
 * `npm run bench`: Switchboard's hot paths measured side by side with their raw floors, on a
 * nats-server and redis-server of the bench's own (free ports, temp dirs), so it never shares
 * state with a running stack. Writes docs/benchmarks.md and prints the same tables. Targets
 * are reported, not enforced; the exit code is non-zero only if the bench itself could not run.
 *
 * Env: BENCH_DURATION_MS (measured window, default 3000), BENCH_WARMUP_MS (default 1000),
 * BENCH_CONCURRENCY (the "high" concurrency, default 64).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { names } from '@sb/contracts';
import { startNatsServer, startRedisServer, whichBinary } from '../../libs/testing/src/local-servers';
import { readIdleRss, startFleet } from './fleet-procs';
import { startJetStreamFloor, type Target } from './floor';
import { startNestClientProxy, startPlainRequestReply, startSwitchboardBus } from './internal-calls';
import { benchSettings, closedLoop, type LoadResult, withTimeout } from './measure';
import { machineFacts, renderMarkdown, type Report, resultsTable, type Row, rssTable, type StageRow, serverTable, stageTable } from './report';
import { type FleetSnapshot, scrapeFleet, windowMean } from './server-metrics';
import { primeFleet, StageRecorder, startHttpRoundTrip, startNatsRoundTrip, tenantWithKey } from './round-trips';

const REPO = join(__dirname, '../../..');
const DOC = join(REPO, 'docs', 'benchmarks.md');
const PREFIX = 'sbbench';
const RSS_TARGET_MIB = 150;
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

async function measure(name: string, target: Target, concurrency: number, extra: { onMeasureStart?: () => void | Promise<void> } = {}): Promise<{ result?: LoadResult; failure?: string }> {
  const s = benchSettings(process.env);
  const bound = s.warmupMs + s.durationMs + 30_000;
  try {
    const result = await withTimeout(closedLoop(target.op, { concurrency, durationMs: s.durationMs, warmupMs: s.warmupMs, onMeasureStart: extra.onMeasureStart }), bound, `${name} c=${concurrency}`);
    log(`${name} c=${concurrency}: ${Math.round(result.throughput)} ops/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ${result.errors} errors${result.firstError ? ` (first: ${result.firstError})` : ''}`);
    return { result };
  } catch (e) {
    log(`${name} c=${concurrency} failed: ${errText(e)}`);
    return { failure: errText(e).slice(0, 160) };
  }
}

async function withTarget(name: string, start: () => Promise<Target>, use: (t: Target) => Promise<void>): Promise<string | undefined> {
  let t: Target;
  try {
    t = await start();
  } catch (e) {
    log(`${name} could not start: ${errText(e)}`);
    return errText(e).split('\n')[0].slice(0, 160);
  }
  try {
    await use(t);
  } finally {
    await withTimeout(t.close(), 10_000, `closing ${name}`).catch((e) => log(errText(e)));
  }
  return undefined;
}

async function main(): Promise<void> {
  const settings = benchSettings(process.env);
  const hi = settings.highConcurrency;
  const notes: string[] = [];
  const rows: Row[] = [];
  const stages: StageRow[] = [];

  log('starting a private nats-server (JetStream) and redis-server');
  const nats = await startNatsServer();
  cleanup.add('nats-server', () => nats.destroy());
  const redis = await startRedisServer();
  cleanup.add('redis-server', () => redis.destroy());
  const facts = machineFacts(whichBinary('nats-server') ?? 'nats-server', whichBinary('redis-server') ?? 'redis-server');
  log(`${facts.nproc} CPUs, ${facts.cpu}, node ${facts.node}, nats-server ${facts.natsServer}`);

  log('starting the fleet (child processes from dist/apps)');
  const adminKey = `sb_admin_bench_${randomBytes(16).toString('hex')}`;
  const fleet = await startFleet({ repoRoot: REPO, natsUrl: nats.url, redisUrl: redis.url, prefix: PREFIX, adminKey, workerConcurrency: hi });
  cleanup.add('fleet', () => fleet.stop());
  for (const f of fleet.failures) notes.push(`${f.name} did not start, so it is not in the memory table: ${f.error}`);

  await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
  const rss = readIdleRss(fleet);
  log(`idle RSS: ${rss.map((r) => `${r.name} ${r.rssMiB?.toFixed(1) ?? '?'} MiB`).join(', ')}`);
  const offPath = fleet.services.filter((s) => s.optional).map((s) => s.name);
  await fleet.stop(offPath);
  notes.push(`${offPath.join(', ')} were measured for memory and then stopped: they are not on the task path and would only compete for CPU.`);
  notes.push(`The gateway runs with TENANT_SUBMIT_RATE=1000000 so the (still consulted) per-tenant rate limit never refuses the bench; one agent-worker with WORKER_AGENTS=echo, WORKER_CONCURRENCY=${hi}.`);

  const { key } = await tenantWithKey(fleet.gatewayUrl, adminKey);
  const natsStages = new StageRecorder();
  const httpStages = new StageRecorder();

  // Round trips, floor first at each concurrency so every pair is measured under the same conditions.
  const floorFail = await withTarget('JetStream floor', () => startJetStreamFloor(nats.url), async (floor) => {
    const natsFail = await withTarget('NATS round trip', () => startNatsRoundTrip(nats.url, PREFIX, key, natsStages), async (natsRt) => {
      await primeFleet(natsRt.op, 30_000);
      const http = startHttpRoundTrip(fleet.gatewayUrl, key, httpStages);
      const urls = Object.fromEntries(fleet.services.filter((x) => !x.optional).map((x) => [x.name, x.url]));
      const n = names(PREFIX);
      const roundTrip = async (label: string, transport: string, t: Target, c: number, rec: StageRecorder, handlerKey: string, floor?: LoadResult) => {
        let before: FleetSnapshot = new Map();
        const r = await measure(`${transport} round trip`, t, c, {
          onMeasureStart: async () => {
            rec.reset();
            before = await scrapeFleet(urls);
          },
        });
        const after = await scrapeFleet(urls);
        const req = (svc: string, subject: string) => windowMean(before, after, svc, `sb_request_duration_seconds|${subject}`);
        stages.push({
          name: label,
          concurrency: c,
          stages: rec.means(),
          clientMeanMs: r.result?.mean,
          server: {
            gatewayHandler: req('gateway', handlerKey),
            admit: req('tenancy', n.internal.admit),
            authorize: req('auth', n.internal.authorize),
            workerTask: windowMean(before, after, 'agent-worker', 'sb_worker_task_duration_seconds|echo'),
          },
        });
        const checks = transport === 'NATS' ? natsChecks(c, hi, r.result, floor) : [];
        rows.push({ group: 'Task round trip', name: `Switchboard over ${label}`, concurrency: c, ...r, floor, floorName: 'JetStream', checks });
      };
      for (const c of [1, hi]) {
        const f = await measure('JetStream floor', floor, c);
        rows.push({ group: 'Task round trip', name: 'plain nats.js JetStream publish → pull → reply', concurrency: c, ...f, checks: [] });
        await roundTrip('NATS (submit, wait)', 'NATS', natsRt, c, natsStages, n.tasks.submit, f.result);
        await roundTrip('HTTP (POST /v1/tasks, wait)', 'HTTP', http, c, httpStages, 'POST /v1/tasks', f.result);
      }
    });
    if (natsFail) notes.push(`The NATS/HTTP round trips could not start: ${natsFail}`);
  });
  if (floorFail) notes.push(`The JetStream floor could not start: ${floorFail}`);

  // Internal service calls at high concurrency, against plain request-reply.
  let plain: LoadResult | undefined;
  const internal: Array<[string, () => Promise<Target>, boolean]> = [
    ['plain nats.js request-reply', () => startPlainRequestReply(nats.url), false],
    ['Switchboard Bus.request → Bus.serve (authorize)', () => startSwitchboardBus(nats.url), true],
    ['Nest stock ClientProxy → @MessagePattern', () => startNestClientProxy(nats.url), false],
  ];
  for (const [name, start, targeted] of internal) {
    const isFloor = plain === undefined && name.startsWith('plain');
    let r: { result?: LoadResult; failure?: string } = {};
    const fail = await withTarget(name, start, async (t) => {
      r = await measure(name, t, hi);
    });
    if (fail) r = { failure: fail };
    if (isFloor) plain = r.result;
    const checks = targeted ? [{ label: '≥ 0.95× floor ops/s', pass: r.result && plain ? r.result.throughput / plain.throughput >= 0.95 : undefined }] : [];
    rows.push({ group: 'Internal call', name, concurrency: hi, ...r, ...(isFloor ? {} : { floor: plain, floorName: 'request-reply' }), checks });
  }
  rows.push({ group: 'Internal call', name: 'Moleculer over NATS', concurrency: hi, failure: 'not measured (moleculer is not installed)', floor: plain, floorName: 'request-reply', checks: [] });

  const report: Report = { facts, settings, rows, rss, rssTargetMiB: RSS_TARGET_MIB, stages, notes };
  mkdirSync(join(REPO, 'docs'), { recursive: true });
  writeFileSync(DOC, renderMarkdown(report));
  process.stdout.write(`\n${resultsTable(rows)}\n\n${rssTable(rss, RSS_TARGET_MIB)}\n\n${stageTable(stages)}\n\n${serverTable(stages)}\n\n`);
  for (const n of notes) process.stdout.write(`- ${n}\n`);
  log(`wrote ${DOC}`);
}

function natsChecks(c: number, hi: number, r: LoadResult | undefined, floor: LoadResult | undefined): Row['checks'] {
  if (c === 1) return [{ label: 'p50 ≤ 3 ms', pass: r ? r.p50 <= 3 : undefined }];
  if (c !== hi) return [];
  const ok = (v: boolean | undefined) => (r && floor ? v : undefined);
  return [
    { label: '≥ 0.50× floor ops/s', pass: ok(r && floor ? r.throughput / floor.throughput >= 0.5 : undefined) },
    { label: 'p99 ≤ 2× floor p99', pass: ok(r && floor ? r.p99 <= 2 * floor.p99 : undefined) },
  ];
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
