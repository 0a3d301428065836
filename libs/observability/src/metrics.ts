/**
 * One prom-client registry per service, with default process metrics and RED metrics
 * (requests, errors, duration) that every transport adapter records into.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Default gauges of prom-client whose names end in `_total`, left out of every registry. */
export const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'transport' | 'endpoint' | 'outcome' | 'code'>;
  readonly duration: Histogram<'transport' | 'endpoint' | 'outcome'>;

  constructor(readonly service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    // prom-client's defaults include three gauges named like counters, which `promtool check
    // metrics` rejects ("non-counter metrics should not have _total suffix") and which would
    // mislead rate(). Each is the sum of its by-type gauge that stays (nodejs_active_handles,
    // nodejs_active_requests, nodejs_active_resources, label `type`): sum without (type) (...).
    for (const name of MISNAMED_DEFAULT_GAUGES) this.registry.removeSingleMetric(name);
    this.requests = new Counter({
      name: 'sb_requests_total',
      help: 'Requests served, by transport (nats|http), endpoint (subject or route), outcome (ok|error) and error code',
      labelNames: ['transport', 'endpoint', 'outcome', 'code'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'sb_request_duration_seconds',
      help: 'Time to serve a request, by transport, endpoint and outcome',
      labelNames: ['transport', 'endpoint', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
  }

  /** Record one served request. `code` is the error code, or '' on success. */
  observe(transport: 'nats' | 'http', endpoint: string, startedAt: bigint, code: string): void {
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    const key = `${transport} ${endpoint} ${code}`;
    let series = this.series.get(key);
    if (!series) {
      // Label lookups hash every label on each call; bind each series once (a hot path serves thousands a second).
      const outcome = code === '' ? 'ok' : 'error';
      series = { count: this.requests.labels({ transport, endpoint, outcome, code }), time: this.duration.labels({ transport, endpoint, outcome }) };
      this.series.set(key, series);
    }
    series.count.inc();
    series.time.observe(seconds);
  }

  private readonly series = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>();

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  histogram<L extends string>(name: string, help: string, labelNames: readonly L[] = [], buckets = LATENCY_BUCKETS): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }
}
