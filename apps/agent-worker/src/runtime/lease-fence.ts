/**
 * Fencing for a task this worker runs under a lease `{agentId, epoch}` in the task record.
 * Recovery may reclaim the task (the worker looked dead: paused, partitioned); from then on
 * this worker must not extend, settle or retry it, and above all must not ack its message:
 * with work-queue retention that ack would delete the copy another worker is running.
 */
import { isTerminal, type QueuedTask, type TaskRecord } from '@sb/contracts';
import type { PulledMessage } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import { holdsLease, type TaskStore } from '@sb/tasks';
import type { AbortRegistry } from './abort-registry';

type Lease = TaskRecord['lease'];

export class LeaseFence {
  constructor(
    private readonly store: TaskStore,
    private readonly aborts: AbortRegistry,
    private readonly logger: AppLogger,
  ) {}

  /** Our result lost the compare-and-set: ack only if the task ended or is still ours. */
  async settleSuperseded(task: QueuedTask, msg: PulledMessage, lease: Lease): Promise<void> {
    const cur = await this.store.get(task.tenantId, task.taskId);
    if (!cur || isTerminal(cur.record.status) || holdsLease(cur.record, lease)) return msg.ack();
    this.logger.warn({ taskId: task.taskId, lease, holder: cur.record.lease }, 'task was reclaimed from this worker; late result dropped');
  }

  /** True when the task no longer runs under our lease (reclaimed): then we neither settle nor retry it. */
  async lost(task: QueuedTask, signal: AbortSignal, lease: Lease): Promise<boolean> {
    if (signal.aborted && signal.reason === 'lost_lease') return true;
    if (signal.aborted && signal.reason !== 'timed_out') return false;
    const cur = await this.store.get(task.tenantId, task.taskId).catch(() => undefined);
    return !!cur && !isTerminal(cur.record.status) && !holdsLease(cur.record, lease);
  }

  /** The periodic keep-alive: extends the message only while the record still names our lease. */
  async keepAlive(task: QueuedTask, msg: PulledMessage, lease: Lease): Promise<void> {
    const cur = await this.store.get(task.tenantId, task.taskId).catch(() => undefined);
    if (cur && !holdsLease(cur.record, lease) && !isTerminal(cur.record.status)) {
      this.aborts.abort(task.taskId, 'lost_lease');
      return;
    }
    msg.working();
  }
}
