/**
 * A fixed-size ring of samples: `capacity` time columns and at most `maxSeries` series, each a
 * Float64Array of `capacity` values (NaN: no value at that time). Memory is
 * capacity × (maxSeries + 1) numbers whatever happens; a series without a value anywhere in the
 * ring is forgotten, and a new series beyond `maxSeries` is dropped and counted.
 */
import type { SeriesMetric, SeriesPoint } from './series-metrics';

interface Series {
  metric: SeriesMetric;
  labels: Record<string, string>;
  values: Float64Array;
  /** The column count when it last had a value. */
  lastWritten: number;
}

export interface RingRead {
  t: number[];
  series: Array<{ metric: SeriesMetric; labels: Record<string, string>; values: Array<number | null> }>;
}

const keyOf = (p: Pick<SeriesPoint, 'metric' | 'labels'>) =>
  p.metric +
  Object.keys(p.labels)
    .sort()
    .map((k) => `\u0000${k}=${p.labels[k]}`)
    .join('');

export class SeriesRing {
  private readonly times: Float64Array;
  private readonly series = new Map<string, Series>();
  /** Columns written so far; the next goes to `written % capacity`. */
  private written = 0;
  droppedSeries = 0;

  constructor(
    readonly capacity: number,
    readonly maxSeries: number,
  ) {
    this.times = new Float64Array(capacity);
  }

  get seriesCount(): number {
    return this.series.size;
  }

  /** One column at time `t` (epoch ms): every point given; every other series gets no value. */
  push(t: number, points: readonly SeriesPoint[]): void {
    const i = this.written % this.capacity;
    this.times[i] = t;
    for (const s of this.series.values()) s.values[i] = NaN;
    for (const p of points) {
      if (!Number.isFinite(p.value)) continue;
      const key = keyOf(p);
      let s = this.series.get(key);
      if (!s) {
        if (this.series.size >= this.maxSeries) {
          this.droppedSeries++;
          continue;
        }
        s = { metric: p.metric, labels: { ...p.labels }, values: new Float64Array(this.capacity).fill(NaN), lastWritten: 0 };
        this.series.set(key, s);
      }
      s.values[i] = p.value;
      s.lastWritten = this.written;
    }
    this.written++;
    for (const [key, s] of this.series) if (this.written - s.lastWritten > this.capacity) this.series.delete(key);
  }

  /** Columns at or after `since` (epoch ms), oldest first; series sorted by metric and labels. */
  read(since: number): RingRead {
    const size = Math.min(this.written, this.capacity);
    const indexes: number[] = [];
    for (let n = this.written - size; n < this.written; n++) {
      const i = n % this.capacity;
      if (this.times[i] >= since) indexes.push(i);
    }
    const series = [...this.series.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, s]) => ({ metric: s.metric, labels: s.labels, values: indexes.map((i) => (Number.isNaN(s.values[i]) ? null : s.values[i])) }))
      .filter((s) => s.values.some((v) => v !== null));
    return { t: indexes.map((i) => Math.round(this.times[i]) / 1000), series };
  }
}
