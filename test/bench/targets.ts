/**
 * The hot path's targets (issue 13, "a secure task round trip faster than BullMQ"), judged from
 * one bench run: every figure compared was measured in the same run on the same machine, with
 * NATS authentication on. Each target names the row it judges, so the results table shows the
 * same verdict beside the figure; the bench prints them all as one table with met or NO.
 */
import type { LoadResult } from './measure';

export const HOT_PATH_TARGETS = {
  /** c=high throughput over BullMQ's, at least. */
  opsVsPeer: 1.3,
  /** c=high throughput over the JetStream floor's, at least. */
  opsVsFloor: 0.5,
  /** c=high p99 over the floor's, at most. */
  p99VsFloor: 2,
  /** c=1 p50 over BullMQ's, at most. */
  p50VsPeer: 1.5,
  /** c=1 p50, at most (ms). */
  p50Ms: 2,
  /** CPU per task at c=high summed over every process, at most (ms). */
  cpuMsPerTask: 0.4,
  /** Switchboard's internal call over plain request-reply (throughput), at least. */
  internalVsRaw: 0.95,
  /** The idle fleet's CPU, at most about (cores). */
  idleCores: 0.1,
  /** HTTP submit-and-wait (node:http keep-alive client) over the NATS path's throughput at c=high, at least. */
  httpVsNats: 0.8,
} as const;

export interface TargetRow {
  /** What is promised, in words. */
  target: string;
  /** The figures it was judged on. */
  measured: string;
  /** undefined: a figure is missing (a row failed). */
  pass?: boolean;
  /** The results-table row this target judges, with the short label shown there. */
  row?: { name: string; concurrency: number; label: string };
}

/** The measured windows the targets are judged on; any may be missing if its row failed. */
export interface HotPathInputs {
  high: number;
  /** Results-table names of the judged rows. */
  names: { nats: string; http: string; internal: string };
  nats: { low?: LoadResult; high?: LoadResult; highCpuMs?: number };
  floor: { low?: LoadResult; high?: LoadResult };
  peer: { low?: LoadResult; high?: LoadResult };
  /** The HTTP path with the node:http keep-alive client, at c=high. */
  httpHigh?: LoadResult;
  internal?: LoadResult;
  requestReply?: LoadResult;
  idleCores?: number;
}

const msOf = (v: number): string => `${v < 1 ? v.toFixed(3) : v.toFixed(2)} ms`;
const x = (v: number): string => `${v.toFixed(2)}×`;

/** How a compared pair is shown: both figures and their ratio. */
type Show = (a: number, b: number, r: number) => string;

/** At-least or at-most a ratio of two figures; no verdict when either is missing. */
function ratio(a: number | undefined, b: number | undefined, limit: number, atLeast: boolean, show: Show): Pick<TargetRow, 'measured' | 'pass'> {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return { measured: 'not measured' };
  const r = a / b;
  return { measured: show(a, b, r), pass: atLeast ? r >= limit : r <= limit };
}

export function hotPathTargets(i: HotPathInputs): TargetRow[] {
  const t = HOT_PATH_TARGETS;
  const hi = i.high;
  const natsHi = { name: i.names.nats, concurrency: hi };
  const natsLo = { name: i.names.nats, concurrency: 1 };
  const count = (v: number) => Math.round(v).toLocaleString('en-US');
  const perSecond = (unit: string): Show => (a, b, r) => `${count(a)} vs ${count(b)} ${unit}/s = ${x(r)}`;
  const opsShow = perSecond('tasks');
  const msShow: Show = (a, b, r) => `${msOf(a)} vs ${msOf(b)} = ${x(r)}`;
  const rows: TargetRow[] = [
    {
      target: `NATS round trip, c=${hi}: throughput at least ${t.opsVsPeer}× BullMQ's`,
      ...ratio(i.nats.high?.throughput, i.peer.high?.throughput, t.opsVsPeer, true, opsShow),
      row: { ...natsHi, label: `≥ ${t.opsVsPeer}× BullMQ ops/s` },
    },
    {
      target: `NATS round trip, c=${hi}: throughput at least ${t.opsVsFloor}× the JetStream floor's`,
      ...ratio(i.nats.high?.throughput, i.floor.high?.throughput, t.opsVsFloor, true, opsShow),
      row: { ...natsHi, label: `≥ ${t.opsVsFloor.toFixed(2)}× floor ops/s` },
    },
    {
      target: `NATS round trip, c=${hi}: p99 at most ${t.p99VsFloor}× the floor's`,
      ...ratio(i.nats.high?.p99, i.floor.high?.p99, t.p99VsFloor, false, msShow),
      row: { ...natsHi, label: `p99 ≤ ${t.p99VsFloor}× floor p99` },
    },
    {
      target: `NATS round trip, c=1: p50 at most ${t.p50VsPeer}× BullMQ's`,
      ...ratio(i.nats.low?.p50, i.peer.low?.p50, t.p50VsPeer, false, msShow),
      row: { ...natsLo, label: `p50 ≤ ${t.p50VsPeer}× BullMQ p50` },
    },
    {
      target: `NATS round trip, c=1: p50 at most ${t.p50Ms} ms`,
      ...(i.nats.low ? { measured: msOf(i.nats.low.p50), pass: i.nats.low.p50 <= t.p50Ms } : { measured: 'not measured' }),
      row: { ...natsLo, label: `p50 ≤ ${t.p50Ms} ms` },
    },
    {
      target: `NATS round trip, c=${hi}: CPU per task at most ${t.cpuMsPerTask} ms, summed over every process`,
      ...(i.nats.highCpuMs !== undefined ? { measured: msOf(i.nats.highCpuMs), pass: i.nats.highCpuMs <= t.cpuMsPerTask } : { measured: 'not measured' }),
      row: { ...natsHi, label: `CPU ≤ ${t.cpuMsPerTask} ms/task` },
    },
    {
      target: `Internal service call (Bus.request → @MessagePattern), c=${hi}: throughput at least ${t.internalVsRaw}× plain request-reply's`,
      ...ratio(i.internal?.throughput, i.requestReply?.throughput, t.internalVsRaw, true, perSecond('calls')),
      row: { name: i.names.internal, concurrency: hi, label: `≥ ${t.internalVsRaw}× floor ops/s` },
    },
    {
      target: `Idle fleet: at most about ${t.idleCores} core`,
      ...(i.idleCores !== undefined ? { measured: `${i.idleCores.toFixed(3)} cores`, pass: i.idleCores <= t.idleCores } : { measured: 'not measured' }),
    },
    {
      target: `HTTP round trip (POST /v1/tasks with wait, node:http keep-alive client), c=${hi}: throughput at least ${t.httpVsNats}× the NATS path's`,
      ...ratio(i.httpHigh?.throughput, i.nats.high?.throughput, t.httpVsNats, true, opsShow),
      row: { name: i.names.http, concurrency: hi, label: `≥ ${t.httpVsNats}× NATS ops/s` },
    },
  ];
  return rows;
}

/** The checks of one results-table row (report.ts's Check): the targets that judge it. */
export function checksOf(targets: TargetRow[], name: string, concurrency: number): Array<{ label: string; pass?: boolean }> {
  return targets.filter((t) => t.row?.name === name && t.row.concurrency === concurrency).map((t) => ({ label: t.row!.label, pass: t.pass }));
}
