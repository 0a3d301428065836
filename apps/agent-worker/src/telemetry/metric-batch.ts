/**
 * The worker's metric batch for the collector: task outcomes and durations per capability,
 * read from the worker's own prom-client metrics (sb_worker_tasks_total and
 * sb_worker_task_duration_seconds, kept by WorkerMetrics), published under the fleet names
 * (FleetMetrics) with cumulative values, plus its CPU, memory, in-flight and capacity gauges.
 */
import { FleetMetrics, type MetricSample } from '@sb/contracts';
import type { Registry } from 'prom-client';

const WORKER_TASKS = 'sb_worker_tasks_total';
const WORKER_DURATION = 'sb_worker_task_duration_seconds';

interface PromValue {
  labels: Record<string, string | number | undefined>;
  value: number;
  metricName?: string;
}

export async function taskSamples(registry: Registry): Promise<MetricSample[]> {
  const out: MetricSample[] = [];
  const tasks = registry.getSingleMetric(WORKER_TASKS);
  if (tasks) {
    for (const v of (await tasks.get()).values as PromValue[]) {
      const capability = String(v.labels.capability ?? '');
      const outcome = String(v.labels.outcome ?? '');
      if (capability && outcome) out.push({ type: 'counter', name: FleetMetrics.agentTasks, help: 'Task attempts finished by this agent, by capability and outcome', labels: { capability, outcome }, value: v.value });
    }
  }
  const duration = registry.getSingleMetric(WORKER_DURATION);
  if (duration) {
    // Summed over outcomes: the collector wants one histogram per capability.
    const perCap = new Map<string, { buckets: Map<number, number>; sum: number; count: number }>();
    for (const v of (await duration.get()).values as PromValue[]) {
      const capability = String(v.labels.capability ?? '');
      if (!capability) continue;
      let h = perCap.get(capability);
      if (!h) perCap.set(capability, (h = { buckets: new Map(), sum: 0, count: 0 }));
      if (v.metricName?.endsWith('_bucket')) {
        const le = Number(v.labels.le);
        if (Number.isFinite(le)) h.buckets.set(le, (h.buckets.get(le) ?? 0) + v.value);
      } else if (v.metricName?.endsWith('_sum')) h.sum += v.value;
      else if (v.metricName?.endsWith('_count')) h.count += v.value;
    }
    for (const [capability, h] of perCap) {
      const buckets = [...h.buckets].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
      out.push({ type: 'histogram', name: FleetMetrics.agentTaskDuration, help: 'Time this agent spent on a task attempt, by capability', labels: { capability }, buckets, sum: h.sum, count: h.count });
    }
  }
  return out;
}

export function gaugeSamples(g: { cpuPercent: number; memoryPercent: number; inFlight: number; capacity: number }): MetricSample[] {
  const gauge = (name: string, help: string, value: number): MetricSample => ({ type: 'gauge', name, help, labels: {}, value });
  return [
    gauge(FleetMetrics.agentCpuPercent, 'CPU used by this agent process, percent of one core', g.cpuPercent),
    gauge(FleetMetrics.agentMemoryPercent, 'Resident memory of this agent, percent of its limit', g.memoryPercent),
    gauge(FleetMetrics.agentInFlight, 'Tasks this agent holds now', g.inFlight),
    gauge(FleetMetrics.agentCapacity, 'Tasks this agent runs at once at most', g.capacity),
  ];
}
