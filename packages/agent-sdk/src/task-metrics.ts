/**
 * What an agent reports about its own work (`<prefix>.v1.agents.metrics.<agentId>`): per
 * capability, attempts by outcome (a counter) and their durations (a histogram), cumulative as
 * Prometheus counters are, plus its CPU, memory, in-flight and capacity gauges. The collector
 * turns them into the fleet's error ratio and p95 per capability and the agent's report.
 * Recording an outcome is a few field updates; the batch is built only when it is sent.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { MetricBatch, MetricSample, TaskOutcome } from './protocol';

/** Upper bounds (seconds) of the duration histogram. */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

interface Durations {
  counts: number[];
  sum: number;
  count: number;
}

export class TaskMetrics {
  /** capability → outcome → attempts. */
  private readonly outcomes = new Map<string, Map<TaskOutcome, number>>();
  private readonly durations = new Map<string, Durations>();
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  private readonly memoryLimit = memoryLimitBytes();

  record(capability: string, outcome: TaskOutcome, seconds: number): void {
    let byOutcome = this.outcomes.get(capability);
    if (!byOutcome) this.outcomes.set(capability, (byOutcome = new Map()));
    byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
    let d = this.durations.get(capability);
    if (!d) this.durations.set(capability, (d = { counts: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < DURATION_BUCKETS.length; i++) if (seconds <= DURATION_BUCKETS[i]!) d.counts[i]!++;
    d.sum += seconds;
    d.count++;
  }

  /** Everything so far, as one batch. */
  batch(agentId: string, gauges: { inFlight: number; capacity: number }): MetricBatch {
    const samples: MetricSample[] = [];
    for (const [capability, byOutcome] of this.outcomes) {
      for (const [outcome, value] of byOutcome) {
        samples.push({ type: 'counter', name: 'sb_agent_tasks_total', help: 'Task attempts finished by this agent, by capability and outcome', labels: { capability, outcome }, value });
      }
    }
    for (const [capability, d] of this.durations) {
      samples.push({
        type: 'histogram',
        name: 'sb_agent_task_duration_seconds',
        help: 'Time this agent spent on a task attempt, by capability',
        labels: { capability },
        buckets: DURATION_BUCKETS.map((le, i) => ({ le, count: d.counts[i]! })),
        sum: Math.round(d.sum * 1e6) / 1e6,
        count: d.count,
      });
    }
    const now = performance.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const wallMs = now - this.lastAt;
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const rss = process.memoryUsage.rss();
    const gauge = (name: string, help: string, value: number): MetricSample => ({ type: 'gauge', name, help, labels: {}, value });
    samples.push(
      gauge('sb_agent_cpu_percent', 'CPU used by this agent process, percent of one core', wallMs > 0 ? Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 10_000) / 100 : 0),
      gauge('sb_agent_memory_percent', 'Resident memory of this agent, percent of its limit', Math.min(100, Math.round((rss / this.memoryLimit) * 10_000) / 100)),
      gauge('sb_agent_in_flight', 'Tasks this agent holds now', gauges.inFlight),
      gauge('sb_agent_capacity', 'Tasks this agent runs at once at most', gauges.capacity),
    );
    return { agentId, sentAt: Date.now(), samples };
  }
}

/** The cgroup memory limit when one is set (containers), else the host's memory. */
function memoryLimitBytes(): number {
  for (const path of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const v = Number(readFileSync(path, 'utf8').trim());
      if (Number.isFinite(v) && v > 0 && v < totalmem()) return v;
    } catch {
      // no limit here
    }
  }
  return totalmem();
}
