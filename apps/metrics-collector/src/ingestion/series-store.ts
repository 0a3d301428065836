/**
 * The latest value of every series every agent reported, with a ceiling per agent: a new
 * series beyond COLLECTOR_MAX_SERIES_PER_AGENT is dropped and counted, so memory is bounded
 * by agents × ceiling. A metric name has one type fleet-wide (the first one seen), because a
 * Prometheus family has one type; a sample that contradicts it is dropped. Counters without
 * the `_total` suffix get it, as Prometheus client libraries do.
 */
import type { Labels, MetricSample } from '@sb/contracts';

export type SeriesType = MetricSample['type'];

export interface Series {
  type: SeriesType;
  name: string;
  labels: Labels;
  value: number;
  buckets?: Array<{ le: number; count: number }>;
  sum?: number;
  count?: number;
  updatedAt: number;
}

export interface Family {
  type: SeriesType;
  help: string;
}

export type DropReason = 'cardinality' | 'type_conflict' | 'invalid_histogram';

export interface IngestResult {
  accepted: number;
  dropped: Partial<Record<DropReason, number>>;
}

/** Called for each accepted sample with the series' previous value (undefined when new), and the sample as the agent sent it. */
export type UpdateListener = (agentId: string, prev: Series | undefined, next: Series, sample: MetricSample) => void;

const DEFAULT_HELP = 'Reported by agents';

export function seriesKey(name: string, labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let k = name;
  for (const l of keys) k += `\u0000${l}\u0001${labels[l]}`;
  return k;
}

export class SeriesStore {
  private readonly families = new Map<string, Family>();
  /** Names taken by a family's exposition lines (a histogram takes _bucket, _sum, _count). */
  private readonly reserved = new Map<string, string>();
  private readonly agents = new Map<string, Map<string, Series>>();
  private total = 0;

  constructor(private readonly maxPerAgent: number) {}

  get seriesCount(): number {
    return this.total;
  }
  get agentCount(): number {
    return this.agents.size;
  }

  ingest(agentId: string, samples: MetricSample[], now: number, onUpdate?: UpdateListener): IngestResult {
    const result: IngestResult = { accepted: 0, dropped: {} };
    const drop = (r: DropReason) => (result.dropped[r] = (result.dropped[r] ?? 0) + 1);
    let mine = this.agents.get(agentId);
    for (const s of samples) {
      const name = s.type === 'counter' && !s.name.endsWith('_total') ? `${s.name}_total` : s.name;
      if (!this.claimFamily(name, s.type, s.help)) {
        drop('type_conflict');
        continue;
      }
      const labels = renameReserved(s.labels, s.type === 'histogram');
      const key = seriesKey(name, labels);
      mine ??= this.agents.get(agentId) ?? new Map<string, Series>();
      if (!this.agents.has(agentId)) this.agents.set(agentId, mine);
      const prev = mine.get(key);
      if (!prev && mine.size >= this.maxPerAgent) {
        drop('cardinality');
        continue;
      }
      let next: Series;
      if (s.type === 'histogram') {
        const buckets = [...s.buckets].sort((a, b) => a.le - b.le);
        if (!cumulative(buckets, s.count)) {
          drop('invalid_histogram');
          continue;
        }
        next = { type: 'histogram', name, labels, value: s.count, buckets, sum: s.sum, count: s.count, updatedAt: now };
      } else {
        next = { type: s.type, name, labels, value: s.value, updatedAt: now };
      }
      if (!prev) this.total++;
      mine.set(key, next);
      onUpdate?.(agentId, prev, next, s);
      result.accepted++;
    }
    return result;
  }

  dropAgent(agentId: string): void {
    const mine = this.agents.get(agentId);
    if (!mine) return;
    this.total -= mine.size;
    this.agents.delete(agentId);
  }

  /** Families with their series, for exposition: name → (family, [agentId, series][]). */
  byFamily(): Map<string, { family: Family; series: Array<[string, Series]> }> {
    const out = new Map<string, { family: Family; series: Array<[string, Series]> }>();
    for (const [agentId, mine] of this.agents) {
      for (const s of mine.values()) {
        let f = out.get(s.name);
        if (!f) out.set(s.name, (f = { family: this.families.get(s.name)!, series: [] }));
        f.series.push([agentId, s]);
      }
    }
    return out;
  }

  private claimFamily(name: string, type: SeriesType, help: string | undefined): boolean {
    const f = this.families.get(name);
    if (f) return f.type === type;
    const owner = this.reserved.get(name);
    if (owner !== undefined && owner !== name) return false;
    const lines = type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [];
    if (lines.some((l) => this.families.has(l) || (this.reserved.has(l) && this.reserved.get(l) !== name))) return false;
    this.families.set(name, { type, help: help ?? DEFAULT_HELP });
    this.reserved.set(name, name);
    for (const l of lines) this.reserved.set(l, name);
    return true;
  }
}

/** `agent` (and `le` on histograms) are the collector's own labels: an agent's are kept as `exported_*`. */
function renameReserved(labels: Labels, histogram: boolean): Labels {
  if (labels.agent === undefined && (!histogram || labels.le === undefined)) return labels;
  const out: Labels = {};
  for (const [k, v] of Object.entries(labels)) out[k === 'agent' || (histogram && k === 'le') ? `exported_${k}` : k] = v;
  return out;
}

function cumulative(buckets: Array<{ le: number; count: number }>, count: number): boolean {
  let prev = 0;
  for (let i = 0; i < buckets.length; i++) {
    if (i > 0 && buckets[i].le === buckets[i - 1].le) return false;
    if (buckets[i].count < prev || buckets[i].count > count) return false;
    prev = buckets[i].count;
  }
  return true;
}
