/** Reading, listing, waiting for and cancelling a tenant's tasks. */
import {
  isTerminal,
  type ListTasksQuery,
  NotFoundError,
  type PublicTask,
  TaskNotCancellableError,
  type TaskRecord,
  toPublicTask,
} from '@sb/contracts';
import type { NatsClient } from '@sb/messaging';
import { isPastDeadline, type TaskInfrastructure, type TaskLifecycle } from '@sb/tasks';
import type { Completion } from './completion-inbox';
import { finished, type Waiting, watchForFinish } from './task-waiter';

export interface TaskListPage {
  tasks: PublicTask[];
  /** The `cursor` of the next page (the `Sb-Next-Cursor` header); absent on the last page. */
  next?: string;
}

/** Grace after a task's deadline before a reader declares it timed out (the agent's own timer fires first). */
const DEADLINE_GRACE_MS = 1_000;

export class TaskQueries {
  constructor(
    private readonly client: NatsClient,
    private readonly infra: TaskInfrastructure,
    private readonly lifecycle: TaskLifecycle,
    /** Records one list call reads at most (TASK_LIST_SCAN_MAX). */
    private readonly listScanMax: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(tenantId: string, taskId: string): Promise<PublicTask> {
    return toPublicTask(await this.current(tenantId, taskId));
  }

  /** A page of the tenant's tasks, most recently changed first; `next` is the following page's cursor. */
  async list(tenantId: string, q: ListTasksQuery): Promise<TaskListPage> {
    const filter = (r: TaskRecord) => (!q.status || r.status === q.status) && (!q.capability || r.capability === q.capability);
    const page = await this.infra.pages.page(tenantId, { limit: q.limit, cursor: q.cursor, scanMax: this.listScanMax, filter });
    return { tasks: page.records.map(toPublicTask), next: page.next };
  }

  async cancel(tenantId: string, taskId: string): Promise<PublicTask> {
    const { applied, current } = await this.lifecycle.cancel(tenantId, taskId);
    if (!current) throw new NotFoundError(`Task ${taskId} not found`);
    if (!applied) throw new TaskNotCancellableError(`Task ${taskId} already ended ${current.record.status}`);
    return toPublicTask(current.record);
  }

  /** The end of a submit-and-wait: the finished task as the worker sent it, or the stored one, or `timed_out` at the deadline. */
  async finishCompletion(tenantId: string, taskId: string, completion: Completion): Promise<PublicTask> {
    const sent = await completion.done;
    if (sent) return sent;
    if (sent === undefined) return toPublicTask(await this.expire(tenantId, taskId, true));
    return toPublicTask(await this.current(tenantId, taskId));
  }

  watch(tenantId: string, taskId: string, timeoutMs: number): Waiting {
    return watchForFinish(this.client.nc, this.client.names, tenantId, taskId, timeoutMs);
  }

  /**
   * Wait up to `timeoutMs` for an existing task to finish. With `expire`, a task still
   * unfinished at its own deadline is ended `timed_out` (the submit-and-wait contract).
   */
  async waitFor(tenantId: string, taskId: string, timeoutMs: number, expire: boolean): Promise<PublicTask> {
    const waiting = this.watch(tenantId, taskId, timeoutMs);
    const now = await this.infra.store.get(tenantId, taskId);
    if (!now) {
      waiting.cancel();
      throw new NotFoundError(`Task ${taskId} not found`);
    }
    if (finished(now.record)) {
      waiting.cancel();
      return toPublicTask(now.record);
    }
    return this.finishWaiting(tenantId, taskId, waiting, expire);
  }

  async finishWaiting(tenantId: string, taskId: string, waiting: Waiting, expire: boolean): Promise<PublicTask> {
    const ended = await waiting.done;
    if (!ended && expire) return toPublicTask(await this.expire(tenantId, taskId, true));
    return toPublicTask(await this.current(tenantId, taskId));
  }

  /** The stored record; a task past its deadline (plus grace) that nobody finished is ended `timed_out` here. */
  private async current(tenantId: string, taskId: string): Promise<TaskRecord> {
    const v = await this.infra.store.get(tenantId, taskId);
    if (!v) throw new NotFoundError(`Task ${taskId} not found`);
    const late = new Date(this.now().getTime() - DEADLINE_GRACE_MS);
    if (!isTerminal(v.record.status) && isPastDeadline(v.record, late)) return this.expire(tenantId, taskId, false);
    return v.record;
  }

  private async expire(tenantId: string, taskId: string, atDeadline: boolean): Promise<TaskRecord> {
    const { current } = await this.lifecycle.timeOut(tenantId, taskId, atDeadline);
    if (!current) throw new NotFoundError(`Task ${taskId} not found`);
    return current.record;
  }
}
