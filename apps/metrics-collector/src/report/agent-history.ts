/**
 * A bounded recent window per agent for the performance report: heartbeats (CPU, memory,
 * in-flight) and task deltas (finished, failed, p95) folded into two rings of downsampled
 * slots, 60 one-minute slots and 168 one-hour slots (~13 KB per agent, whatever the traffic).
 * A report over 1 hour reads the minute ring, longer ones the hour ring.
 */

const F = { beats: 0, cpuSum: 1, cpuN: 2, cpuMax: 3, memSum: 4, memN: 5, memMax: 6, infSum: 7, infMax: 8, finished: 9, failed: 10, p95Max: 11 } as const;
const FIELDS = 12;
const MAX_FIELDS = [F.cpuMax, F.memMax, F.infMax, F.p95Max];

class Ring {
  private readonly data: Float32Array;
  private readonly epochs: Float64Array;

  constructor(
    readonly size: number,
    readonly resolutionMs: number,
  ) {
    this.data = new Float32Array(size * FIELDS);
    this.epochs = new Float64Array(size).fill(-1);
  }

  /** The slot for time `t`, cleared if it held an older epoch. */
  slot(t: number): number {
    const epoch = Math.floor(t / this.resolutionMs);
    const i = epoch % this.size;
    if (this.epochs[i] !== epoch) {
      this.epochs[i] = epoch;
      this.data.fill(0, i * FIELDS, (i + 1) * FIELDS);
      for (const m of MAX_FIELDS) this.data[i * FIELDS + m] = -1;
    }
    return i * FIELDS;
  }

  add(t: number, field: number, v: number): void {
    this.data[this.slot(t) + field] += v;
  }

  max(t: number, field: number, v: number): void {
    const o = this.slot(t) + field;
    if (v > this.data[o]) this.data[o] = v;
  }

  /** Sum (or max) of each field over the slots of the last `slots` epochs up to `now`. */
  fold(now: number, slots: number): Float64Array {
    const out = new Float64Array(FIELDS);
    for (const m of MAX_FIELDS) out[m] = -1;
    const current = Math.floor(now / this.resolutionMs);
    for (let e = current - slots + 1; e <= current; e++) {
      const i = ((e % this.size) + this.size) % this.size;
      if (this.epochs[i] !== e) continue;
      for (let f = 0; f < FIELDS; f++) {
        const v = this.data[i * FIELDS + f];
        if (MAX_FIELDS.includes(f as (typeof MAX_FIELDS)[number])) out[f] = Math.max(out[f], v);
        else out[f] += v;
      }
    }
    return out;
  }
}

export interface HistorySummary {
  beats: number;
  cpu: { avg: number | null; max: number | null };
  memory: { avg: number | null; max: number | null };
  inFlight: { avg: number | null; max: number | null };
  finished: number;
  failed: number;
  p95Seconds: number | null;
}

export class AgentHistory {
  private readonly minutes = new Ring(60, 60_000);
  private readonly hours = new Ring(168, 3_600_000);

  beat(t: number, b: { cpuPercent?: number; memoryPercent?: number; inFlight: number }): void {
    for (const r of [this.minutes, this.hours]) {
      r.add(t, F.beats, 1);
      r.add(t, F.infSum, b.inFlight);
      r.max(t, F.infMax, b.inFlight);
      if (b.cpuPercent !== undefined) {
        r.add(t, F.cpuSum, b.cpuPercent);
        r.add(t, F.cpuN, 1);
        r.max(t, F.cpuMax, b.cpuPercent);
      }
      if (b.memoryPercent !== undefined) {
        r.add(t, F.memSum, b.memoryPercent);
        r.add(t, F.memN, 1);
        r.max(t, F.memMax, b.memoryPercent);
      }
    }
  }

  tasks(t: number, finished: number, failed: number, p95Seconds: number | null): void {
    for (const r of [this.minutes, this.hours]) {
      r.add(t, F.finished, finished);
      r.add(t, F.failed, failed);
      if (p95Seconds !== null) r.max(t, F.p95Max, p95Seconds);
    }
  }

  summary(now: number, hours: number): HistorySummary {
    const v = hours <= 1 ? this.minutes.fold(now, 60) : this.hours.fold(now, hours);
    const avg = (sum: number, n: number) => (n > 0 ? round(sum / n) : null);
    const max = (m: number) => (m >= 0 ? round(m) : null);
    return {
      beats: v[F.beats],
      cpu: { avg: avg(v[F.cpuSum], v[F.cpuN]), max: max(v[F.cpuMax]) },
      memory: { avg: avg(v[F.memSum], v[F.memN]), max: max(v[F.memMax]) },
      inFlight: { avg: avg(v[F.infSum], v[F.beats]), max: max(v[F.infMax]) },
      finished: v[F.finished],
      failed: v[F.failed],
      p95Seconds: max(v[F.p95Max]),
    };
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
