/** The recovery service's own metrics (on its /metrics, next to the RED metrics). */
import type { ServiceMetrics } from '@sb/observability';
import type { Counter, Histogram } from 'prom-client';

const RECLAIM_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 7.5, 10, 30, 60];

export class RecoveryMetrics {
  readonly reclaimedTotal: Counter<'how'>;
  readonly reclaimSeconds: Histogram<'phase'>;
  readonly restarts: Counter<'outcome'>;
  readonly timedOut: Counter<string>;

  constructor(m: ServiceMetrics) {
    this.reclaimedTotal = m.counter(
      'sb_recovery_reclaimed_tasks_total',
      "Tasks recovery took back from down agents, by how (requeue: still under the dead agent's lease after the verify delay, republished from the record)",
      ['how'],
    );
    this.reclaimSeconds = m.histogram(
      'sb_recovery_reclaim_seconds',
      'Seconds from the agent-down event to: the fallback requeues done (phase=requeue)',
      ['phase'],
      RECLAIM_BUCKETS,
    );
    this.restarts = m.counter('sb_recovery_restarts_total', 'Agent restarts/replacements through the runtime adapter, by outcome (ok|failed|budget_exhausted|refused)', ['outcome']);
    this.timedOut = m.counter('sb_recovery_timed_out_tasks_total', 'Tasks the deadline sweeper finalised as timed_out');
  }

  reclaimed(count: number, how: 'requeue'): void {
    this.reclaimedTotal.inc({ how }, count);
  }

  requeueLatency(seconds: number): void {
    this.reclaimSeconds.observe({ phase: 'requeue' }, seconds);
  }
}
