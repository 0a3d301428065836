/**
 * What tracing costs per task: the NATS submit-and-wait round trip on a fresh fleet with
 * tracing off, on (every trace sampled, spans batched to OTLP-less span stream), and on at a
 * 10 % sampling ratio, with the plain nats.js JetStream floor from the same run. CPU is summed
 * over the fleet's processes and nats-server (span stream writes cost the server too). The three
 * fleets run side by side and are measured in rotating order over BENCH_ROUNDS rounds (at most 3
 * here); the round with the median CPU per task is reported.
 *
 * Alone: `npm run build && node dist/test/bench/tracing.js` (own nats-server and redis-server).
 * In `npm run bench`, run.ts calls `tracingOverhead` with its servers.
 */
import { generateApiKey } from '@sb/contracts';
import { createLogger, DEFAULT_TRACING, ServiceTracer, SpanStreamExporter } from '@sb/observability';
import type { BenchNats } from './bench-nats';
import { CpuSampler, cpuPerOp } from './cpu';
import { startFleet } from './fleet-procs';
import { startJetStreamFloor, type Target } from './floor';
import { type BenchSettings, benchSettings, closedLoop, type LoadResult, withTimeout } from './measure';
import { primeFleet, StageRecorder, startNatsRoundTrip, tenantNatsClient, tenantWithKey } from './round-trips';

export interface TracingRow {
  mode: string;
  concurrency: number;
  result?: LoadResult;
  failure?: string;
  /** CPU ms per task over the fleet and nats-server. */
  cpuMs?: number;
  floor?: LoadResult;
}

export interface TracingBenchOptions {
  settings: BenchSettings;
  nats: BenchNats;
  redisUrl: string;
  repoRoot: string;
  log: (msg: string) => void;
}

const MODES: Array<{ mode: string; env: Record<string, string> }> = [
  { mode: 'tracing off (TRACING_ENABLED=false)', env: { TRACING_ENABLED: 'false' } },
  { mode: 'tracing on, every trace sampled (default)', env: { TRACING_ENABLED: 'true', OTEL_TRACES_SAMPLER_ARG: '1' } },
  { mode: 'tracing on, OTEL_TRACES_SAMPLER_ARG=0.1', env: { TRACING_ENABLED: 'true', OTEL_TRACES_SAMPLER_ARG: '0.1' } },
];

/** The fleet reads its settings from the environment it is spawned with: set them for one fleet, then put them back. */
async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function window(s: BenchSettings, t: Target, c: number, pids: () => Record<string, number | undefined>): Promise<{ result: LoadResult; cpuMs: number; per: Map<string, number> }> {
  const sampler = new CpuSampler(pids);
  let before = new Map<string, number>();
  const r = await withTimeout(
    closedLoop(t.op, { concurrency: c, durationMs: s.durationMs, warmupMs: s.warmupMs, onMeasureStart: async () => void (before = sampler.sample()) }),
    s.warmupMs + s.durationMs + 30_000,
    `tracing bench c=${c}`,
  );
  const per = cpuPerOp(before, sampler.sample(), r.ops);
  return { result: r, cpuMs: [...per.values()].reduce((a, b) => a + b, 0), per };
}

export async function tracingOverhead(o: TracingBenchOptions): Promise<TracingRow[]> {
  const s = o.settings;
  const hi = s.highConcurrency;
  const rows: TracingRow[] = [];
  const floorTarget = await startJetStreamFloor(o.nats);
  const floors = new Map<number, LoadResult>();
  try {
    for (const c of [1, hi]) {
      const w = await window(s, floorTarget, c, () => ({ 'nats-server': o.nats.pid, ...floorTarget.pids }));
      floors.set(c, w.result);
      o.log(`tracing bench floor c=${c}: ${Math.round(w.result.throughput)} ops/s`);
    }
  } finally {
    await floorTarget.close();
  }
  // All three fleets run at once and are measured in rotating order for several rounds (the
  // median round counts), so load from anything else on the machine falls on every mode alike.
  const fleets: Array<{ mode: string; fleet?: Awaited<ReturnType<typeof startFleet>>; rt?: Target; failure?: string; windows: Map<number, Array<{ result: LoadResult; cpuMs: number }>> }> = [];
  try {
    for (const [i, m] of MODES.entries()) {
      const entry: (typeof fleets)[number] = { mode: m.mode, windows: new Map() };
      fleets.push(entry);
      try {
        const adminKey = generateApiKey();
        const prefix = `sbtrace${i}`;
        entry.fleet = await withEnv(m.env, () => startFleet({ repoRoot: o.repoRoot, nats: o.nats, redisUrl: o.redisUrl, prefix, adminKey, workerConcurrency: hi }));
        await entry.fleet.stop(entry.fleet.services.filter((x) => x.optional).map((x) => x.name));
        const { key } = await tenantWithKey(entry.fleet.gatewayUrl, adminKey);
        entry.rt = await startNatsRoundTrip(await tenantNatsClient(o.nats.url, entry.fleet.gatewayUrl, key), prefix, key, new StageRecorder());
        await primeFleet(entry.rt.op, 30_000);
      } catch (e) {
        const text = e instanceof Error ? e.message : String(e);
        entry.failure = text.split('\n')[0].slice(0, 160);
        o.log(`${m.mode} could not start: ${text.slice(0, 3000)}`);
      }
    }
    const rounds = Math.min(s.rounds, 3);
    for (let round = 0; round < rounds; round++) {
      for (const c of [1, hi]) {
        for (let k = 0; k < fleets.length; k++) {
          const f = fleets[(round + k) % fleets.length];
          if (!f.rt || !f.fleet) continue;
          const fl = f.fleet;
          const pids = () => ({ 'nats-server': o.nats.pid, ...Object.fromEntries(fl.services.filter((x) => !x.optional && !x.proc.exit).map((x) => [x.name, x.proc.pid])) });
          try {
            const w = await window(s, f.rt, c, pids);
            f.windows.set(c, [...(f.windows.get(c) ?? []), w]);
            const split = [...w.per].map(([name, v]) => `${name} ${v.toFixed(3)}`).join(', ');
            o.log(`${f.mode} c=${c} round ${round + 1}: ${Math.round(w.result.throughput)} ops/s, p50 ${w.result.p50.toFixed(2)} ms, ${w.cpuMs.toFixed(3)} CPU ms/task (${split})`);
          } catch (e) {
            o.log(`${f.mode} c=${c} round ${round + 1} failed: ${e instanceof Error ? e.message : String(e)}`);
          }
        }
      }
    }
  } finally {
    for (const f of fleets) {
      await f.rt?.close();
      await f.fleet?.stop();
    }
  }
  for (const f of fleets) {
    for (const c of [1, hi]) {
      const ws = [...(f.windows.get(c) ?? [])].sort((a, b) => a.cpuMs - b.cpuMs);
      const mid = ws[Math.floor((ws.length - 1) / 2)];
      rows.push(mid ? { mode: f.mode, concurrency: c, result: mid.result, cpuMs: mid.cpuMs, floor: floors.get(c) } : { mode: f.mode, concurrency: c, failure: f.failure ?? 'not measured' });
    }
  }
  return rows;
}

/**
 * In-process CPU per span (start, context, end, batch, encode for the span stream; the sink
 * discards), tracing enabled vs disabled: the part of the overhead the fleet rows cannot resolve
 * on a busy machine. Median of 3 runs of `n` spans each.
 */
export async function spanCostMicros(n = 50_000): Promise<{ enabledUs: number; disabledUs: number; bytesPerSpan: number }> {
  const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const attributes = { 'sb.task.id': 'task-0123456789abcdef', 'sb.tenant.id': 'acme', 'sb.task.capability': 'echo' };
  const once = async (enabled: boolean) => {
    const t = new ServiceTracer('bench', { ...DEFAULT_TRACING, TRACING_ENABLED: enabled, TRACE_EXPORT_DELAY_MS: 50 }, createLogger('bench', 'silent'));
    let bytes = 0;
    t.addExporter('null', new SpanStreamExporter({ write: async (batches) => void batches.forEach((b) => (bytes += b.data.length)) }, 'bench'));
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      await t.inSpan('task.submit', { kind: 'server', parent: i % 2 ? parent : undefined, attributes }, async (span) => void t.traceparentOf(span));
      if (i % 256 === 0) await new Promise((r) => setImmediate(r)); // let the batch processor run, as a service's event loop would
    }
    await t.flush();
    const c = process.cpuUsage(c0);
    await t.shutdown();
    return { us: (c.user + c.system) / n, bytes: bytes / n };
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const on: { us: number; bytes: number }[] = [];
  const off: { us: number; bytes: number }[] = [];
  for (let r = 0; r < 3; r++) {
    off.push(await once(false));
    on.push(await once(true));
  }
  return { enabledUs: median(on.map((x) => x.us)), disabledUs: median(off.map((x) => x.us)), bytesPerSpan: median(on.map((x) => x.bytes)) };
}

export function tracingTable(rows: TracingRow[]): string {
  const off = new Map(rows.filter((r) => r.mode.startsWith('tracing off')).map((r) => [r.concurrency, r]));
  const lines = ['| mode | c | ops/s | p50 ms | p99 ms | CPU ms/task (fleet + nats-server) | vs tracing off | ops/s vs JetStream floor |', '|---|---:|---:|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    if (!r.result) {
      lines.push(`| ${r.mode} | ${r.concurrency} | failed: ${r.failure ?? '?'} | | | | | |`);
      continue;
    }
    const base = off.get(r.concurrency);
    const vsOff = base?.cpuMs && r.cpuMs !== undefined ? `${(r.cpuMs / base.cpuMs).toFixed(2)}× CPU, ${((r.result.throughput / base.result!.throughput) * 100).toFixed(0)} % ops/s` : '';
    const vsFloor = r.floor ? `${(r.result.throughput / r.floor.throughput).toFixed(2)}×` : '';
    lines.push(`| ${r.mode} | ${r.concurrency} | ${Math.round(r.result.throughput)} | ${r.result.p50.toFixed(2)} | ${r.result.p99.toFixed(2)} | ${r.cpuMs?.toFixed(3) ?? ''} | ${vsOff} | ${vsFloor} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { join } = await import('node:path');
  const { startRedisServer } = await import('../../libs/testing/src/local-servers');
  const { startBenchNats } = await import('./bench-nats');
  const log = (msg: string) => void process.stdout.write(`bench: ${msg}\n`);
  const nats = await startBenchNats();
  const redis = await startRedisServer();
  try {
    const cost = await spanCostMicros();
    log(`per span, in process: ${cost.enabledUs.toFixed(2)} µs CPU traced vs ${cost.disabledUs.toFixed(2)} µs with tracing disabled; ${Math.round(cost.bytesPerSpan)} bytes to the span stream`);
    const rows = await tracingOverhead({ settings: benchSettings(process.env), nats, redisUrl: redis.url, repoRoot: join(__dirname, '../../..'), log });
    process.stdout.write(`\n${tracingTable(rows)}\n`);
  } finally {
    await nats.destroy();
    await redis.destroy();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`tracing bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
