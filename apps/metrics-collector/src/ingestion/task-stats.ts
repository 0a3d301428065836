/**
 * Turns the agents' cumulative task metrics into deltas: per capability for the fleet window
 * (error ratio, p95) and per agent for the report history. The first value seen of a series is
 * its baseline (a collector that starts late must not count an agent's whole past at once);
 * a counter that goes down means the agent restarted and its value is all new.
 */
import { FleetMetrics } from '@sb/contracts';
import type { TaskWindow } from '../fleet-samples/task-window';
import { ERROR_OUTCOMES } from '../fleet-samples/task-window';
import type { AgentHistory } from '../report/agent-history';
import { bucketDelta, quantile } from './histogram-math';
import type { Series } from './series-store';

export class TaskStats {
  constructor(
    private readonly window: TaskWindow,
    private readonly historyOf: (agentId: string) => AgentHistory,
  ) {}

  /** An UpdateListener for SeriesStore.ingest. */
  readonly onUpdate = (agentId: string, prev: Series | undefined, next: Series): void => {
    if (!prev) return;
    const capability = next.labels.capability;
    if (capability === undefined) return;
    const now = next.updatedAt;
    if (next.type === 'counter' && next.name === FleetMetrics.agentTasks) {
      const delta = next.value >= prev.value ? next.value - prev.value : next.value;
      if (delta <= 0) return;
      const outcome = next.labels.outcome ?? 'unknown';
      this.window.addOutcomes(capability, outcome, delta, now);
      const failed = ERROR_OUTCOMES.has(outcome) ? delta : 0;
      const finished = outcome === 'succeeded' || failed > 0 ? delta : 0;
      if (finished > 0) this.historyOf(agentId).tasks(now, finished, failed, null);
    } else if (next.type === 'histogram' && next.name === FleetMetrics.agentTaskDuration) {
      const d = bucketDelta(prev.buckets ? { buckets: prev.buckets, count: prev.count ?? 0 } : undefined, { buckets: next.buckets ?? [], count: next.count ?? 0 });
      if (d.count <= 0) return;
      this.window.addDurations(capability, d.buckets, d.count, now);
      this.historyOf(agentId).tasks(now, 0, 0, quantile(0.95, d.buckets, d.count));
    }
  };
}
