/**
 * The console's time series: what each one measures, its unit, and the labels that split it.
 * The reply of GET /v1/console/series names them, so the page needs no second copy of units.
 */
export const SERIES_METRICS = {
  throughput: { title: 'Throughput', unit: 'tasks/s', help: 'Tasks that finished (any outcome) per second, per capability' },
  latencyP95: { title: 'Run time p95', unit: 's', help: "95th percentile of a task's run time on its agent, over the collector's window (FLEET_WINDOW_MS)" },
  errorRatio: { title: 'Error ratio', unit: 'ratio', help: 'Finished tasks that failed, dead-lettered or timed out, of those not cancelled, over the last minute' },
  queueDepth: { title: 'Queue depth', unit: 'tasks', help: 'Tasks waiting for an agent, per capability and priority' },
  queueAge: { title: 'Oldest waiting', unit: 's', help: 'How long the oldest task not yet handed to an agent has waited, per capability and priority' },
  agents: { title: 'Agents', unit: 'agents', help: 'Agents up and down, as the collector counts them' },
} as const;
export type SeriesMetric = keyof typeof SERIES_METRICS;

export interface SeriesPoint {
  metric: SeriesMetric;
  labels: Record<string, string>;
  value: number;
}

/** The reply of GET /v1/console/series: one time axis, every series aligned on it (null: no value then). */
export interface SeriesReply {
  stepMs: number;
  /** Sample times, epoch seconds, oldest first. */
  t: number[];
  series: Array<{ metric: SeriesMetric; labels: Record<string, string>; values: Array<number | null> }>;
  metrics: typeof SERIES_METRICS;
  /** Series not kept because the ring was full (the console shows that some are missing). */
  droppedSeries: number;
}
