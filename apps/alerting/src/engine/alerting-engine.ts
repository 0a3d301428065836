/**
 * The alerting engine: rules evaluated as data arrives (push), `for` and time-based conditions
 * on a clock tick, then the lifecycle (pending → firing → resolved), grouping, silences,
 * inhibition, escalation and acknowledgements. Inputs are plain method calls, outputs go
 * through ports (KV state, event sink, notification outbox), so the same engine runs on NATS
 * and in tests with a manual clock.
 */
import {
  type AgentLivenessEvent,
  type AlertRule,
  type AlertView,
  FLEET_AGENT_ID,
  type ListAlertsRequest,
  type MetricBatch,
  type RaiseAlert,
} from '@sb/contracts';
import { activeSilences, type AlertRecord, inhibitionIndex, toView } from './alert-record';
import { AlertLifecycle } from './alert-lifecycle';
import type { EngineDeps } from './engine-deps';
import { Escalator } from './escalator';
import { GroupNotifier } from './group-notifier';
import { HostTracker } from './host-tracker';
import { fingerprint, labelKey, matchAll, renderAnnotations } from './labels';
import { RuleEvaluator, type SeriesSample } from './rule-evaluator';
import { SeriesBudget } from './series-budget';

interface Pending {
  ruleId: string;
  since: number;
  labels: Record<string, string>;
  value: number | null;
}

export class AlertingEngine {
  readonly life: AlertLifecycle;
  private readonly notifier: GroupNotifier;
  private readonly escalator: Escalator;
  private readonly evaluators = new Map<string, RuleEvaluator>();
  private readonly byMetric = new Map<string, Set<RuleEvaluator>>();
  private readonly pending = new Map<string, Pending>();
  private readonly inflight = new Set<Promise<unknown>>();
  /** Rules that heard a liveness event since they were last evaluated (see onLiveness). */
  private readonly livenessHeard = new Set<RuleEvaluator>();
  private livenessTurn?: NodeJS.Immediate;
  private ticking?: Promise<void>;
  private readonly hosts: HostTracker;
  /** Series held by all evaluators together (ALERTING_MAX_SERIES). */
  readonly series: SeriesBudget;

  constructor(private readonly deps: EngineDeps) {
    this.series = new SeriesBudget(deps.settings.maxSeries, deps.onSeriesRefused);
    this.life = new AlertLifecycle(deps);
    this.notifier = new GroupNotifier(deps, this.life);
    this.escalator = new Escalator(deps, this.life);
    this.hosts = new HostTracker(deps.settings.hostDownMinAgents);
  }

  /** Replace the rule set. Unchanged rules keep their data; removed or disabled rules resolve their alerts. */
  setRules(rules: readonly AlertRule[]): void {
    const now = this.deps.clock.now();
    const wanted = new Map(rules.filter((r) => r.enabled).map((r) => [r.id, r]));
    for (const [id, ev] of this.evaluators) {
      const r = wanted.get(id);
      if (r && r.updatedAt === ev.rule.updatedAt) continue;
      this.evaluators.delete(id);
      ev.dispose();
      if (ev.metric) this.byMetric.get(ev.metric)?.delete(ev);
      for (const [fp, p] of this.pending) if (p.ruleId === id) this.pending.delete(fp);
      if (!r) for (const fp of this.life.bySource.get(id) ?? []) this.track(this.life.resolve(fp));
    }
    for (const [id, r] of wanted) {
      if (this.evaluators.has(id)) continue;
      const ev = new RuleEvaluator(r, now, this.deps.settings.staleAfterMs, this.series);
      this.evaluators.set(id, ev);
      if (ev.metric) {
        let set = this.byMetric.get(ev.metric);
        if (!set) this.byMetric.set(ev.metric, (set = new Set()));
        set.add(ev);
      }
    }
  }

  /**
   * A metric batch from an agent (series labelled `agent=<id>`) or from the collector (agentId
   * `fleet`). The inputs handler passes on only what the collector validated (engine-inputs.handler.ts).
   */
  onMetrics(batch: MetricBatch): void {
    const now = this.deps.clock.now();
    const byName = new Map<string, SeriesSample[]>();
    const push = (s: SeriesSample) => {
      if (!this.byMetric.has(s.metric)) return;
      let list = byName.get(s.metric);
      if (!list) byName.set(s.metric, (list = []));
      list.push(s);
    };
    const agentLabel: Record<string, string> = batch.agentId === FLEET_AGENT_ID ? {} : { agent: batch.agentId };
    for (const s of batch.samples) {
      const labels = { ...s.labels, ...agentLabel };
      if (s.type === 'histogram') {
        push({ metric: `${s.name}_count`, labels, value: s.count });
        push({ metric: `${s.name}_sum`, labels, value: s.sum });
      } else push({ metric: s.name, labels, value: s.value });
    }
    for (const [metric, samples] of byName) {
      for (const ev of this.byMetric.get(metric) ?? []) {
        const touched = ev.ingest(samples, now);
        if (touched.size > 0) this.reconcile(ev, now, ev.perSeries ? touched : undefined);
      }
    }
  }

  onLiveness(ev: AgentLivenessEvent): void {
    for (const e of this.evaluators.values()) if (e.liveness(ev)) this.livenessHeard.add(e);
    // A mass failure is thousands of events in a burst: each rule is evaluated once per burst
    // (on the next turn of the event loop), not once per event over every agent that is down.
    if (this.livenessHeard.size > 0) this.livenessTurn ??= setImmediate(() => this.evaluateLiveness());
    const host = this.hosts.apply(ev);
    if (host) {
      const labels = { host: host.host };
      this.onRaise({ name: 'HostDown', severity: 'critical', state: host.down ? 'firing' : 'resolved', labels, annotations: { summary: `Every agent on ${host.host} is down` }, source: 'alerting' });
    }
  }

  /** An alert raised or resolved by another service. */
  onRaise(r: RaiseAlert): void {
    const labels = { ...r.labels, alertname: r.name, severity: r.severity };
    const fp = fingerprint(r.name, labels);
    if (r.state === 'resolved') {
      this.track(this.life.resolve(fp));
      return;
    }
    this.track(
      this.life.fire({ fingerprint: fp, name: r.name, severity: r.severity, source: `external:${r.source}`, seriesKey: labelKey(labels), labels, annotations: r.annotations, value: null }),
    );
  }

  /**
   * Compare a rule's breaches with its alerts and start the transitions (asynchronously).
   * `only`: the series a batch touched (per-series rules on the push path); the tick passes none.
   */
  private reconcile(ev: RuleEvaluator, now: number, only?: ReadonlySet<string>): void {
    const rule = ev.rule;
    const breaches = ev.breaches(now, only);
    const active = new Set<string>();
    for (const [seriesKey, b] of breaches) {
      const labels = alertLabels(rule, b.labels);
      const fp = fingerprint(rule.name, labels);
      active.add(fp);
      if (this.life.firingOrUnderWay(fp)) continue;
      if (rule.forMs > 0) {
        const p = this.pending.get(fp);
        if (!p) {
          this.pending.set(fp, { ruleId: rule.id, since: now, labels, value: b.value });
          continue;
        }
        p.value = b.value;
        if (now - p.since < rule.forMs) continue;
      }
      this.pending.delete(fp);
      const annotations = renderAnnotations(rule.annotations, labels, b.value);
      this.track(this.life.fire({ fingerprint: fp, name: rule.name, severity: rule.severity, source: rule.id, seriesKey, labels, annotations, value: b.value, route: rule.route }));
    }
    if (only) {
      // Push path of a per-series rule: only the touched series can have stopped breaching.
      for (const key of only) {
        const seriesLabels = ev.labelsOf(key);
        if (!seriesLabels) continue;
        const fp = fingerprint(rule.name, alertLabels(rule, seriesLabels));
        if (active.has(fp)) continue;
        this.pending.delete(fp);
        if (this.life.isFiring(fp)) this.track(this.life.resolve(fp));
      }
      return;
    }
    for (const [fp, p] of this.pending) if (p.ruleId === rule.id && !active.has(fp)) this.pending.delete(fp);
    for (const fp of this.life.bySource.get(rule.id) ?? []) {
      const a = this.life.get(fp);
      if (a?.state === 'firing' && !active.has(fp) && ev.covers(a.seriesKey, now)) this.track(this.life.resolve(fp));
    }
  }

  /** Time-driven work: `for`, absence, staleness, escalation, ack expiry, group notifications. One at a time. */
  tick(): Promise<void> {
    this.ticking ??= this.runTick().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async runTick(): Promise<void> {
    const now = this.deps.clock.now();
    for (const ev of this.evaluators.values()) {
      ev.expire(now);
      this.reconcile(ev, now);
    }
    await this.settle();
    const suppressed = this.suppression(now);
    await this.escalator.tick(now, (a) => suppressed(a).silenced || suppressed(a).inhibited);
    await this.notifier.tick(now, (a) => suppressed(a).silenced || suppressed(a).inhibited);
  }

  /** The rules that heard liveness events since their last evaluation, evaluated now. */
  private evaluateLiveness(): void {
    if (this.livenessTurn) clearImmediate(this.livenessTurn);
    this.livenessTurn = undefined;
    const now = this.deps.clock.now();
    for (const e of this.livenessHeard) if (this.evaluators.get(e.rule.id) === e) this.reconcile(e, now);
    this.livenessHeard.clear();
  }

  /** Resolves once every transition started so far (liveness heard included) has finished. */
  async settle(): Promise<void> {
    this.evaluateLiveness();
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  ack(fingerprint: string, by: string, expiresInMs: number, comment?: string): Promise<AlertView> {
    return this.escalator.ack(fingerprint, by, expiresInMs, comment);
  }

  list(q: ListAlertsRequest): AlertView[] {
    const now = this.deps.clock.now();
    const sup = this.suppression(now);
    const views: AlertView[] = this.life.all().map((a) => {
      const s = sup(a);
      return toView(a, now, s.silencedBy, s.inhibited);
    });
    for (const [fp, p] of this.pending) {
      const rule = this.evaluators.get(p.ruleId)?.rule;
      if (!rule) continue;
      views.push({
        fingerprint: fp, name: rule.name, severity: rule.severity, state: 'pending', labels: p.labels, annotations: renderAnnotations(rule.annotations, p.labels, p.value),
        source: rule.id, value: p.value, startsAt: new Date(p.since).toISOString(), endsAt: null, silencedBy: [], inhibited: false, ack: null, escalation: null,
      });
    }
    const wanted = (v: AlertView): boolean => {
      if (q.severity && v.severity !== q.severity) return false;
      if (q.labels && !matchAll(Object.entries(q.labels).map(([name, value]) => ({ name, op: '=' as const, value })), v.labels)) return false;
      switch (q.state) {
        case undefined:
          return true;
        case 'acknowledged':
          return v.ack !== null;
        case 'silenced':
          return v.silencedBy.length > 0;
        case 'inhibited':
          return v.inhibited;
        default:
          return v.state === q.state;
      }
    };
    return views.filter(wanted).sort((a, b) => b.startsAt.localeCompare(a.startsAt)).slice(0, q.limit);
  }

  /** Silence and inhibition status of each alert at `now` (inhibitors: every firing alert). */
  private suppression(now: number): (a: AlertRecord) => { silencedBy: string[]; silenced: boolean; inhibited: boolean } {
    const firing = this.life.all().filter((a) => a.state === 'firing');
    const isInhibited = inhibitionIndex(firing, this.deps.inhibitRules);
    const silences = [...this.deps.silences()];
    const cache = new Map<string, { silencedBy: string[]; silenced: boolean; inhibited: boolean }>();
    return (a) => {
      let s = cache.get(a.fingerprint);
      if (!s) {
        const silencedBy = activeSilences(silences, a.labels, now);
        s = { silencedBy, silenced: silencedBy.length > 0, inhibited: a.state === 'firing' && isInhibited(a) };
        cache.set(a.fingerprint, s);
      }
      return s;
    };
  }

  private track(p: Promise<unknown>): void {
    const t = p.catch((e) => {
      this.deps.onTransitionFailed?.();
      this.deps.logger?.error({ err: e }, 'alert transition failed');
    });
    this.inflight.add(t);
    void t.finally(() => this.inflight.delete(t));
  }
}

/** An alert's labels: the series' labels, the rule's labels, then alertname and severity. */
function alertLabels(rule: AlertRule, seriesLabels: Record<string, string>): Record<string, string> {
  return { ...seriesLabels, ...rule.labels, alertname: rule.name, severity: rule.severity };
}
