/**
 * The bench's output: one markdown document (docs/benchmarks.md, overwritten each run) whose
 * tables are also printed to stdout. Targets are reported, never enforced: a missed target
 * shows as NO in the table, and the process still exits 0.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { RssReading } from './fleet-procs';
import type { ConnTraffic } from './nats-traffic';
import type { BenchSettings, LoadResult } from './measure';
import type { StageMeans } from './round-trips';
import type { StageTime } from './server-metrics';
import type { TargetRow } from './targets';

export interface Check {
  label: string;
  pass?: boolean;
}

export interface Row {
  group: string;
  name: string;
  concurrency: number;
  result?: LoadResult;
  /** Why there is no result. */
  failure?: string;
  /** CPU ms per operation over every watched process. */
  cpuMs?: number;
  /** The floor this row is compared with (undefined for a floor row itself). */
  floor?: LoadResult;
  floorName?: string;
  /** The peer (BullMQ) at the same concurrency, for the "vs BullMQ" columns. */
  peer?: LoadResult;
  /** This row is the peer itself. */
  isPeer?: boolean;
  checks: Check[];
}

export interface StageRow {
  name: string;
  concurrency: number;
  stages?: StageMeans;
  clientMeanMs?: number;
  /** Each service's own handler time over the window, from its /metrics. */
  server?: { gatewayHandler?: StageTime; admit?: StageTime; authorize?: StageTime; workerTask?: StageTime };
}

/** One row of the auth + rate-limit section (open loop at a fixed rate, or closed loop vs the raw EVALSHA floor). */
export interface AuthLimitsRow {
  group: string;
  name: string;
  /** "open loop 5,000/s" or "closed loop c=64". */
  load: string;
  result?: LoadResult;
  failure?: string;
  /** Open loop: p99 of the load generator's own lateness, ms. */
  lateP99?: number;
  /** Closed loop: throughput over the raw EVALSHA loop's. */
  vsRaw?: number;
  cpuMs?: number;
  checks: Check[];
}

export interface CpuRow {
  name: string;
  concurrency: number;
  /** CPU ms per operation, by process. */
  perOp: Map<string, number>;
}

export interface TrafficRow {
  name: string;
  concurrency: number;
  /** NATS messages per operation, by connection name. */
  perOp: Map<string, ConnTraffic>;
}

export interface MachineFacts {
  date: string;
  nproc: number;
  cpu: string;
  node: string;
  natsServer: string;
  redisServer: string;
  os: string;
}

export interface Report {
  /** The command that produced it (with any BENCH_* settings). */
  command?: string;
  facts: MachineFacts;
  settings: BenchSettings;
  rows: Row[];
  rss: RssReading[];
  rssTargetMiB: number;
  stages: StageRow[];
  cpu: CpuRow[];
  traffic: TrafficRow[];
  /** Auth + rate-limit cost (issue 3); absent if that part did not run. */
  authLimits?: AuthLimitsRow[];
  /** The hot path's targets (issue 13), each met or not. */
  targets?: TargetRow[];
  notes: string[];
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return 'unknown';
  }
}

export function machineFacts(natsBinary: string, redisBinary: string): MachineFacts {
  let cpu = 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    /* not Linux */
  }
  const nproc = Number(run('nproc', []));
  const redis = /v=(\S+)/.exec(run(redisBinary, ['--version']))?.[1] ?? 'unknown';
  return {
    date: new Date().toISOString(),
    nproc: Number.isFinite(nproc) && nproc > 0 ? nproc : availableParallelism(),
    cpu,
    node: process.version,
    natsServer: run(natsBinary, ['--version']).replace(/^nats-server:\s*/, ''),
    redisServer: redis,
    os: `${process.platform} ${run('uname', ['-r'])}`,
  };
}

const ms = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '—' : v < 1 ? v.toFixed(3) : v.toFixed(2));
const ops = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '—' : Math.round(v).toLocaleString('en-US'));
const times = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '—' : `${v.toFixed(2)}×`);
const met = (c: Check[]): string => (c.length === 0 ? '—' : c.some((x) => x.pass === undefined) ? 'n/a' : c.every((x) => x.pass) ? 'yes' : '**NO**');

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export function resultsTable(rows: Row[]): string {
  return table(
    ['Path', 'c', 'ops/s', 'p50 ms', 'p99 ms', 'errors', 'CPU ms/op', 'vs floor ops/s', 'vs floor p99', 'vs BullMQ ops/s', 'vs BullMQ p50', 'vs BullMQ p99', 'Target', 'Met'],
    rows.map((r) => {
      const x = r.result;
      const over = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? a / b : undefined);
      const marker = r.isPeer ? ' *(peer)*' : r.floorName ? '' : ' *(floor)*';
      const name = `${r.group}: ${r.name}${marker}`;
      if (!x) return [name, String(r.concurrency), '—', '—', '—', '—', '—', '—', '—', '—', '—', '—', r.checks.map((c) => c.label).join('; ') || '—', `failed: ${r.failure ?? '?'}`];
      const errs = x.errors ? `${x.errors}${x.aborted ? ' (aborted)' : ''}` : '0';
      const vsFloor = [over(x.throughput, r.floor?.throughput), over(x.p99, r.floor?.p99)].map(times);
      const vsPeer = [over(x.throughput, r.peer?.throughput), over(x.p50, r.peer?.p50), over(x.p99, r.peer?.p99)].map(times);
      return [name, String(r.concurrency), ops(x.throughput), ms(x.p50), ms(x.p99), errs, r.cpuMs === undefined ? '—' : r.cpuMs.toFixed(3), ...vsFloor, ...vsPeer, r.checks.map((c) => c.label).join('; ') || '—', met(r.checks)];
    }),
  );
}

export function targetsTable(targets: TargetRow[]): string {
  return table(
    ['Target (issue 13)', 'Measured', 'Met'],
    targets.map((t) => [t.target, t.measured, t.pass === undefined ? 'n/a' : t.pass ? 'met' : '**NO**']),
  );
}

export function authLimitsTable(rows: AuthLimitsRow[]): string {
  return table(
    ['Path', 'load', 'ops/s achieved', 'p50 ms', 'p99 ms', 'errors', 'CPU ms/op', 'generator lag p99 ms', 'vs raw ops/s', 'Target', 'Met'],
    rows.map((r) => {
      const x = r.result;
      const target = r.checks.map((c) => c.label).join('; ') || '—';
      const name = `${r.group}: ${r.name}`;
      if (!x) return [name, r.load, '—', '—', '—', '—', '—', '—', '—', target, `failed: ${r.failure ?? '?'}`];
      const errs = x.errors ? `${x.errors}${x.aborted ? ' (aborted)' : ''}` : '0';
      return [name, r.load, ops(x.throughput), ms(x.p50), ms(x.p99), errs, r.cpuMs === undefined ? '—' : r.cpuMs.toFixed(3), ms(r.lateP99), times(r.vsRaw), target, met(r.checks)];
    }),
  );
}

export function rssTable(rss: RssReading[], targetMiB: number): string {
  return table(
    ['Service', 'idle VmRSS MiB', 'Target', 'Met'],
    rss.map((r) => [r.name, r.rssMiB === undefined ? (r.note ?? '—') : r.rssMiB.toFixed(1), `≤ ${targetMiB} MiB`, r.rssMiB === undefined ? 'n/a' : r.rssMiB <= targetMiB ? 'yes' : '**NO**']),
  );
}

export function stageTable(stages: StageRow[]): string {
  return table(
    ['Path', 'c', 'intake ms', 'queue ms', 'run ms', 'back ms', 'sum of means ms', 'tasks'],
    stages.map((s) => {
      const m = s.stages;
      if (!m) return [s.name, String(s.concurrency), '—', '—', '—', '—', '—', '0'];
      const sum = m.intakeMs + m.queueMs + m.runMs + m.backMs;
      return [s.name, String(s.concurrency), ms(m.intakeMs), ms(m.queueMs), ms(m.runMs), ms(m.backMs), ms(sum), String(m.samples)];
    }),
  );
}

const stageTime = (t: StageTime | undefined, withCount = false): string => {
  if (!t || t.count === 0) return withCount ? '0 calls' : '—';
  return withCount ? `${ms(t.meanMs)} (${t.count} calls)` : ms(t.meanMs);
};

export function serverTable(stages: StageRow[]): string {
  return table(
    ['Path', 'c', 'client mean ms', 'gateway submit handler ms', 'tenancy admit ms (calls)', 'auth authorize ms (calls)', 'worker task ms'],
    stages.map((s) => [
      s.name,
      String(s.concurrency),
      ms(s.clientMeanMs),
      stageTime(s.server?.gatewayHandler),
      stageTime(s.server?.admit, true),
      stageTime(s.server?.authorize, true),
      stageTime(s.server?.workerTask),
    ]),
  );
}

const CPU_ORDER = ['bench client', 'floor worker', 'bullmq worker', 'gateway', 'auth', 'tenancy', 'agent-worker', 'nats-server', 'redis-server'];

export function cpuTable(rows: CpuRow[]): string {
  const seen = new Set<string>();
  for (const r of rows) for (const k of r.perOp.keys()) seen.add(k);
  const cols = [...CPU_ORDER.filter((c) => seen.has(c)), ...[...seen].filter((c) => !CPU_ORDER.includes(c)).sort()];
  return table(
    ['Path', 'c', ...cols, 'total'],
    rows.map((r) => {
      let total = 0;
      const cells = cols.map((c) => {
        const v = r.perOp.get(c);
        if (v === undefined) return '—';
        total += v;
        return v.toFixed(3);
      });
      return [r.name, String(r.concurrency), ...cells, `**${total.toFixed(3)}**`];
    }),
  );
}

const TRAFFIC_ORDER = ['bench-floor-client', 'bench-floor-worker', 'bench-nats-client', 'gateway', 'auth', 'tenancy', 'agent-worker'];

export function trafficTable(rows: TrafficRow[]): string {
  const seen = new Set<string>();
  for (const r of rows) for (const k of r.perOp.keys()) seen.add(k);
  const cols = [...TRAFFIC_ORDER.filter((c) => seen.has(c)), ...[...seen].filter((c) => !TRAFFIC_ORDER.includes(c)).sort()];
  const cell = (t: ConnTraffic) => `${t.sent.toFixed(1)} / ${t.received.toFixed(1)}`;
  return table(
    ['Path', 'c', ...cols, 'total'],
    rows.map((r) => {
      const total = { sent: 0, received: 0 };
      const cells = cols.map((c) => {
        const t = r.perOp.get(c);
        if (!t) return '—';
        total.sent += t.sent;
        total.received += t.received;
        return cell(t);
      });
      return [r.name, String(r.concurrency), ...cells, `**${cell(total)}**`];
    }),
  );
}

/** What stdout gets: the same tables as the document, plus the run's notes. */
export function textTables(r: Report): string {
  return [
    resultsTable(r.rows),
    ...(r.authLimits?.length ? [authLimitsTable(r.authLimits)] : []),
    rssTable(r.rss, r.rssTargetMiB),
    stageTable(r.stages),
    serverTable(r.stages),
    cpuTable(r.cpu),
    trafficTable(r.traffic),
    r.notes.map((n) => `- ${n}`).join('\n'),
    ...(r.targets?.length ? [targetsTable(r.targets)] : []),
  ].join('\n\n');
}
