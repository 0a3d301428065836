import type { ServiceMetrics } from '@sb/observability';

/** Task execution metrics for this worker. */
export class WorkerMetrics {
  private readonly duration;
  private readonly inFlight;

  constructor(m: ServiceMetrics) {
    this.duration = m.histogram('sb_worker_task_duration_seconds', 'Time an agent spent on a task, by capability and outcome', ['capability', 'outcome']);
    this.inFlight = m.counter('sb_worker_tasks_total', 'Tasks taken by this worker, by capability and outcome', ['capability', 'outcome']);
  }

  startTask(capability: string): (outcome: string) => void {
    const end = this.duration.startTimer({ capability });
    return (outcome) => {
      end({ outcome });
      this.inFlight.inc({ capability, outcome });
    };
  }
}
