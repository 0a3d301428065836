/**
 * Every accepted task reaches a final state: the leader periodically finalises tasks that
 * are still queued or running past their deadline (nobody may be waiting on them, so the
 * gateway's lazy check would never run) as `timed_out`, through the task lifecycle, which
 * writes it with compare-and-set and announces it (the task event, the abort to its agent, and
 * the "task ended" notice gateways use to wake their waiters).
 *
 * It looks only at tasks the live events say are alive and that have been so for a while,
 * and remembers each task's deadline so a record is read about once per task.
 */
import { isTerminal, type TaskRecord } from '@sb/contracts';
import type { RunningIndex } from '../reclaim/running-index';

export interface SweeperPorts {
  lease: { isLeader(): boolean };
  index: RunningIndex;
  tasks: {
    get(tenantId: string, taskId: string): Promise<{ record: TaskRecord; revision: number } | undefined>;
    /** CAS to timed_out and announce it; returns the new record, or undefined if it moved or was already final. */
    timeOut(tenantId: string, taskId: string): Promise<TaskRecord | undefined>;
  };
  now: () => number;
}

export interface SweepResult {
  checked: number;
  timedOut: string[];
}

export class DeadlineSweeper {
  constructor(
    private readonly p: SweeperPorts,
    private readonly opts: { minAgeMs: number; batch: number } = { minAgeMs: 1_000, batch: 1_000 },
  ) {}

  async sweep(): Promise<SweepResult> {
    const out: SweepResult = { checked: 0, timedOut: [] };
    if (!this.p.lease.isLeader()) return out;
    for (const t of this.p.index.due(this.opts.minAgeMs, this.opts.batch)) {
      out.checked++;
      const cur = await this.p.tasks.get(t.tenantId, t.taskId);
      if (!cur || isTerminal(cur.record.status)) {
        this.p.index.forget(t.tenantId, t.taskId);
        continue;
      }
      const deadline = Date.parse(cur.record.deadlineAt);
      const now = this.p.now();
      if (now <= deadline) {
        this.p.index.remember(t.tenantId, t.taskId, deadline + 1);
        continue;
      }
      if (await this.p.tasks.timeOut(t.tenantId, t.taskId)) out.timedOut.push(t.taskId);
      this.p.index.forget(t.tenantId, t.taskId);
    }
    return out;
  }
}
