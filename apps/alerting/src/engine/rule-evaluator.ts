/**
 * One rule's view of the data: the series its selector matches (latest value, or a window for
 * rate of change), the last time anything matched (absence), or the agents that are down. After
 * each input it answers "which label sets breach right now", so evaluation is push: a breaching
 * sample is known the moment it arrives. Pure and synchronous.
 */
import type { AgentLivenessEvent, AlertRule, CompareOp, Labels } from '@sb/contracts';
import { labelKey, matchAll, pick } from './labels';
import { type SeriesBudget, unlimitedSeries } from './series-budget';

export interface SeriesSample {
  metric: string;
  labels: Labels;
  value: number;
}
export interface Breach {
  labels: Labels;
  value: number | null;
}

export function compare(op: CompareOp, a: number, b: number): boolean {
  switch (op) {
    case '>':
      return a > b;
    case '<':
      return a < b;
    case '>=':
      return a >= b;
    case '<=':
      return a <= b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
}

interface Point {
  at: number;
  value: number;
}
interface Series {
  labels: Labels;
  points: Point[];
}

export class RuleEvaluator {
  private readonly series = new Map<string, Series>();
  private readonly down = new Map<string, Labels>();
  /** Agents this evaluator has heard about (agent_down), by label key. */
  private readonly known = new Set<string>();
  private lastSeen: number;

  constructor(
    readonly rule: AlertRule,
    private readonly startedAt: number,
    /** A series with no sample for this long is dropped (its alert resolves). */
    private readonly staleAfterMs: number,
    /** Shared by every evaluator of the engine: a new series beyond it is dropped. */
    private readonly budget: SeriesBudget = unlimitedSeries(),
  ) {
    this.lastSeen = startedAt;
  }

  get metric(): string | undefined {
    return this.rule.type === 'agent_down' ? undefined : this.rule.selector.metric;
  }

  /**
   * Feed samples of this rule's metric. Returns the keys of the series touched (empty: nothing
   * matched), so per-series rules re-evaluate only those on the push path.
   */
  ingest(samples: readonly SeriesSample[], now: number): Set<string> {
    const r = this.rule;
    const touched = new Set<string>();
    if (r.type === 'agent_down') return touched;
    for (const s of samples) {
      if (s.metric !== r.selector.metric || !matchAll(r.selector.matchers, s.labels)) continue;
      this.lastSeen = now;
      const key = labelKey(s.labels);
      if (r.type === 'absence') {
        touched.add(key);
        continue;
      }
      let series = this.series.get(key);
      if (!series) {
        if (!this.budget.take()) continue;
        series = { labels: s.labels, points: [] };
        this.series.set(key, series);
      }
      touched.add(key);
      if (r.type === 'rate_of_change') {
        series.points.push({ at: now, value: s.value });
        const from = now - r.windowMs;
        while (series.points.length > 2 && series.points[0].at < from) series.points.shift();
        if (series.points.length > 512) series.points.splice(0, series.points.length - 512);
      } else {
        series.points = [{ at: now, value: s.value }];
      }
    }
    return touched;
  }

  /** The labels of a series this evaluator holds. */
  labelsOf(seriesKey: string): Labels | undefined {
    return this.series.get(seriesKey)?.labels;
  }

  /** True when each series is judged on its own (no aggregation): the push path can look at just the touched ones. */
  get perSeries(): boolean {
    const r = this.rule;
    return r.type === 'rate_of_change' || (r.type === 'threshold' && r.aggregate.op === 'none');
  }

  /** Feed a liveness event; true when it concerns this rule. */
  liveness(ev: AgentLivenessEvent): boolean {
    if (this.rule.type !== 'agent_down') return false;
    const labels: Labels = { ...ev.labels, agent: ev.agentId, host: ev.host };
    this.known.add(labelKey({ agent: ev.agentId, host: ev.host }));
    if (ev.state === 'down') {
      if (!matchAll(this.rule.matchers, labels)) return false;
      this.down.set(ev.agentId, { agent: ev.agentId, host: ev.host });
      return true;
    }
    return this.down.delete(ev.agentId);
  }

  /**
   * Whether this evaluator has seen enough to say `seriesKey` no longer breaches. A new
   * evaluator (after a restart or a rule edit) must not resolve alerts for series it has not
   * heard from yet: it waits for their data, or for the stale period to pass.
   */
  covers(seriesKey: string, now: number): boolean {
    const r = this.rule;
    if (r.type === 'agent_down') return this.known.has(seriesKey);
    if (r.type === 'absence') return this.lastSeen > this.startedAt || now - this.startedAt >= r.absentForMs;
    if (now - this.startedAt >= this.staleAfterMs) return true;
    if (r.type === 'threshold' && r.aggregate.op !== 'none') return this.aggregate(r.aggregate.op, r.aggregate.by).has(seriesKey);
    return this.series.has(seriesKey);
  }

  /** Drop series nobody reports any more. */
  expire(now: number): void {
    for (const [k, s] of this.series) {
      if (s.points[s.points.length - 1].at >= now - this.staleAfterMs) continue;
      this.series.delete(k);
      this.budget.release();
    }
  }

  /** The evaluator is discarded (rule removed or changed): its series leave the budget. */
  dispose(): void {
    this.budget.release(this.series.size);
    this.series.clear();
  }

  /** The label sets breaching now (before `for`), keyed by labelKey. */
  breaches(now: number, only?: ReadonlySet<string>): Map<string, Breach> {
    const out = new Map<string, Breach>();
    const r = this.rule;
    if (only && this.perSeries) {
      for (const key of only) {
        const s = this.series.get(key);
        if (s) this.judge(s, out);
      }
      return out;
    }
    const add = (labels: Labels, value: number | null) => out.set(labelKey(labels), { labels, value });
    switch (r.type) {
      case 'agent_down':
        for (const labels of this.down.values()) add(labels, null);
        break;
      case 'absence':
        if (now - this.lastSeen >= r.absentForMs) add({}, (now - this.lastSeen) / 1000);
        break;
      case 'rate_of_change':
        for (const s of this.series.values()) this.judge(s, out);
        break;
      case 'threshold':
        if (r.aggregate.op === 'none') {
          for (const s of this.series.values()) this.judge(s, out);
        } else {
          for (const g of this.aggregate(r.aggregate.op, r.aggregate.by).values()) if (compare(r.op, g.value, r.value)) add(g.labels, g.value);
        }
        break;
    }
    return out;
  }

  /** One series of a per-series rule: add it to `out` if it breaches. */
  private judge(s: Series, out: Map<string, Breach>): void {
    const r = this.rule;
    if (r.type === 'threshold') {
      const v = s.points[0].value;
      if (compare(r.op, v, r.value)) out.set(labelKey(s.labels), { labels: s.labels, value: v });
    } else if (r.type === 'rate_of_change') {
      const first = s.points[0];
      const last = s.points[s.points.length - 1];
      if (s.points.length < 2 || last.at <= first.at) return;
      const rate = (last.value - first.value) / ((last.at - first.at) / 1000);
      if (compare(r.op, rate, r.value)) out.set(labelKey(s.labels), { labels: s.labels, value: rate });
    }
  }

  private aggregate(op: 'max' | 'min' | 'avg' | 'sum', by: string[]): Map<string, { labels: Labels; value: number }> {
    const acc = new Map<string, { labels: Labels; sum: number; n: number; max: number; min: number }>();
    for (const s of this.series.values()) {
      const labels = pick(s.labels, by);
      const key = labelKey(labels);
      const v = s.points[0].value;
      const a = acc.get(key) ?? { labels, sum: 0, n: 0, max: -Infinity, min: Infinity };
      a.sum += v;
      a.n += 1;
      a.max = Math.max(a.max, v);
      a.min = Math.min(a.min, v);
      acc.set(key, a);
    }
    const out = new Map<string, { labels: Labels; value: number }>();
    for (const [k, a] of acc) out.set(k, { labels: a.labels, value: op === 'sum' ? a.sum : op === 'avg' ? a.sum / a.n : op === 'max' ? a.max : a.min });
    return out;
  }
}
