/**
 * `npm run bench`: Switchboard's hot paths measured side by side with their raw floors, on a
 * nats-server and redis-server of the bench's own (free ports, temp dirs), so it never shares
 * state with a running stack; the nats-server runs in operator mode, every participant with its
 * own user, as deployed (bench-nats.ts). The task round trip is also set beside BullMQ (the peer
 * row, bullmq-peer.ts) and judged against issue 13's targets (targets.ts). Writes
 * docs/benchmarks.md and prints the same tables. Targets are reported, not enforced; the exit
 * code is non-zero only if the bench itself could not run.
 *
 * Env: BENCH_DURATION_MS (measured window, default 3000), BENCH_WARMUP_MS (default 1000),
 * BENCH_CONCURRENCY (the "high" concurrency, default 64), BENCH_ROUNDS (internal-call rounds,
 * default 5; ratios to the floor are paired within a round, the median one reported), BENCH_AUTH_RATE (open-loop rate of the auth + limits
 * rows, default 5000/s).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { whichBinary } from '../../libs/testing/src/local-servers';
import { alertingLatencyBench } from './alerting-latency';
import { authLimitsBench } from './auth-limits';
import { fleetHeartbeatsBench } from './fleet-heartbeats';
import { type HotPathStack, runHotPath, startHotPathStack } from './hot-path';
import { renderMarkdown } from './markdown';
import { benchSettings } from './measure';
import { notificationDeliveryBench } from './notification-delivery';
import { recoveryBench } from './recovery-reclaim';
import { machineFacts, type Report, textTables } from './report';
import { resilienceBench } from './resilience';
import { BenchSession, errText, log, newOut, type Out } from './session';
import { spanCostMicros, tracingOverhead } from './tracing';

const REPO = join(__dirname, '../../..');
const DOC = join(REPO, 'docs', 'benchmarks.md');
const PREFIX = 'sbbench';
const RSS_TARGET_MIB = 150;

const session = new BenchSession(benchSettings(process.env));

/** Issue 3: what auth + the submit gate add per request, and the rate check vs a raw EVALSHA loop. A failure here is a note, not a failed bench. */
async function authAndLimits(stack: HotPathStack, out: Out): Promise<void> {
  const s = session.settings;
  try {
    const r = await authLimitsBench({
      settings: s,
      nats: stack.nats,
      redisUrl: stack.redis.url,
      prefix: stack.prefix,
      gatewayUrl: stack.fleet.gatewayUrl,
      key: stack.key,
      pids: () => session.basePids(),
      log,
      onClose: (name, fn) => session.cleanup.add(name, fn),
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
  const settings = session.settings;
  const out = newOut();
  const load = loadavg()[0];
  const facts = machineFacts(whichBinary('nats-server') ?? 'nats-server', whichBinary('redis-server') ?? 'redis-server');
  log(`${facts.nproc} CPUs, ${facts.cpu}, node ${facts.node}, nats-server ${facts.natsServer}, load average ${load.toFixed(2)}`);
  const stack = await startHotPathStack(session, REPO, PREFIX, out);
  const { nats, redis, rss } = stack;
  const targets = await runHotPath(session, stack, out);
  await authAndLimits(stack, out);
  // Tracing (issue 4): CPU per task with tracing off / on / sampled at 10 %, on fleets of their own. A failure is a note.
  await tracingOverhead({ settings, nats, redisUrl: redis.url, repoRoot: REPO, log }).then(
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
  await fleetHeartbeatsBench(nats, redis.url, { agents: 10_000, windowMs: 10_000, stopped: 100 }, log).then(
    (r) => out.notes.push(...r.lines),
    (e: unknown) => out.notes.push(`Fleet telemetry bench could not run: ${errText(e).split('\n')[0].slice(0, 200)}`),
  );
  // Notification channels (issue 4): enqueue → receiver, vs one stream + consume + fetch. A failure is a note.
  await notificationDeliveryBench(nats, settings, log).then(
    (r) => out.notes.push(...r.lines),
    (e: unknown) => out.notes.push(`Notification delivery could not run: ${errText(e).split('\n')[0].slice(0, 200)}`),
  );
  // Breakers, shedding, dead letters (issue 5): outcome reporting, intake check, dead-letter list vs raw floors. A failure is a note.
  await resilienceBench(nats, settings, log).then(
    (r) => out.notes.push(...r.lines),
    (e: unknown) => out.notes.push(`Resilience bench could not run: ${errText(e).split('\n')[0].slice(0, 200)}`),
  );
  // Recovery (issue 5): kill → tasks running again p50/p99 over repeated kills, throughput dip, vs NAK floor and ack_wait. A failure is a note.
  await recoveryBench(nats, redis.url, { kills: 8 }, log).then(
    (r) => out.notes.push(...r.lines),
    (e: unknown) => out.notes.push(`Recovery bench could not run: ${errText(e).split('\n')[0].slice(0, 200)}`),
  );
  // Alerting (issue 4): breach sample → published AlertEvent, vs one core-NATS hop. A failure is a note.
  await alertingLatencyBench(nats, settings, log).then(
    (r) => out.notes.push(...r.lines),
    (e: unknown) => out.notes.push(`Breach-to-alert latency could not run: ${errText(e).split('\n')[0].slice(0, 200)}`),
  );

  const command = [...Object.keys(process.env).filter((k) => k.startsWith('BENCH_')).sort().map((k) => `${k}=${process.env[k]}`), 'npm run bench'].join(' ');
  const report: Report = { command, facts, settings, targets, rows: out.rows, rss, rssTargetMiB: RSS_TARGET_MIB, stages: out.stages, cpu: out.cpu, traffic: out.traffic, authLimits: out.authLimits, notes: out.notes };
  mkdirSync(join(REPO, 'docs'), { recursive: true });
  writeFileSync(DOC, renderMarkdown(report));
  process.stdout.write(`\n${textTables(report)}\n`);
  log(`wrote ${DOC}`);
}

function exitAfterCleanup(code: number): void {
  void session.cleanup.run().finally(() => process.exit(code));
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

