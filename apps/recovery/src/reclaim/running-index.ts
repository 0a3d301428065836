/**
 * Which tasks each agent is running, learned from the live task events
 * (`running` names the agent; a terminal or `queued` event ends it). Recovery uses it to find
 * the tasks a dead agent was running (each one then checked against its record), and the
 * deadline sweeper uses it to find tasks that may have outlived their deadline without reading
 * every record.
 */
import type { TaskEvent } from '@sb/contracts';

export interface IndexedTask {
  taskId: string;
  tenantId: string;
  capability: string;
  status: 'queued' | 'running';
  agentId: string | null;
  /** The attempt of the latest event applied (orders a gateway's late `queued` after a worker's `running`). */
  attempts: number;
  /** Own clock, ms: when this replica first saw the task alive. */
  seenAt: number;
  /** Own clock, ms: don't look at the record again before this (the sweeper's memo). */
  checkAfter: number;
}

export class RunningIndex {
  private readonly tasks = new Map<string, IndexedTask>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxTasks = 1_000_000,
  ) {}

  /** A task event; an empty body (one that was not JSON) is ignored. */
  onEvent(ev: (Pick<TaskEvent, 'taskId' | 'tenantId' | 'capability' | 'status' | 'agentId'> & { attempts?: number }) | undefined | null): void {
    if (!ev) return;
    const key = `${ev.tenantId}.${ev.taskId}`;
    if (ev.status !== 'queued' && ev.status !== 'running') {
      this.tasks.delete(key);
      return;
    }
    const prev = this.tasks.get(key);
    const attempts = ev.attempts ?? 0;
    // Events come from different publishers: the gateway's `queued` (attempt 0) can arrive after
    // the worker's `running` (attempt 1). A retry's `queued` carries the failed attempt's number.
    if (prev && ev.status === 'queued' && attempts < prev.attempts) return;
    if (!prev && this.tasks.size >= this.maxTasks) return;
    const t = this.now();
    this.tasks.set(key, {
      taskId: ev.taskId,
      tenantId: ev.tenantId,
      capability: ev.capability,
      status: ev.status,
      agentId: ev.status === 'running' ? (ev.agentId ?? null) : null,
      attempts,
      seenAt: prev?.seenAt ?? t,
      checkAfter: prev?.checkAfter ?? 0,
    });
  }

  runningOn(agentId: string): IndexedTask[] {
    return [...this.tasks.values()].filter((t) => t.status === 'running' && t.agentId === agentId);
  }

  /** Tasks seen alive at least `minAgeMs` ago whose memo allows a look now. */
  due(minAgeMs: number, limit: number): IndexedTask[] {
    const t = this.now();
    const out: IndexedTask[] = [];
    for (const v of this.tasks.values()) {
      if (out.length >= limit) break;
      if (t - v.seenAt >= minAgeMs && t >= v.checkAfter) out.push(v);
    }
    return out;
  }

  /** Track a task found some other way (a boot-time scan). */
  add(task: Omit<IndexedTask, 'seenAt' | 'checkAfter' | 'attempts'> & { attempts?: number }): void {
    const key = `${task.tenantId}.${task.taskId}`;
    if (!this.tasks.has(key)) this.tasks.set(key, { ...task, attempts: task.attempts ?? 0, seenAt: this.now(), checkAfter: 0 });
  }

  remember(tenantId: string, taskId: string, checkAfter: number): void {
    const v = this.tasks.get(`${tenantId}.${taskId}`);
    if (v) v.checkAfter = checkAfter;
  }

  forget(tenantId: string, taskId: string): void {
    this.tasks.delete(`${tenantId}.${taskId}`);
  }

  get size(): number {
    return this.tasks.size;
  }
}
