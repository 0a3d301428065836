/**
 * Every accepted task reaches a final state: the leader periodically finalises tasks that
 * are still queued or running past their deadline (nobody may be waiting on them, so the
 * gateway's lazy check would never run) as `timed_out`, with compare-and-set, publishing
 * the task event and the "task ended" notice gateways use to wake their waiters.
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
    /** CAS to timed_out; returns the new record, or undefined if it moved or was already final. */
    timeOut(tenantId: string, taskId: string, now: Date): Promise<TaskRecord | undefined>;
  };
  announce(record: TaskRecord): void;
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
      const done = await this.p.tasks.timeOut(t.tenantId, t.taskId, new Date(now));
      if (done) {
        this.p.announce(done);
        out.timedOut.push(t.taskId);
      }
      this.p.index.forget(t.tenantId, t.taskId);
    }
    return out;
  }
}
