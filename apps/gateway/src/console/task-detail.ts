/**
 * One task as the console's detail view shows it: the public task (GET /v1/tasks/:id, with a
 * task past its deadline ended as there) plus what only its owner's operators need: the input,
 * every failed attempt's error, its deadline, redrives, trace id, and a timeline of its life
 * built from the record (queued, each failed attempt, the current run, the end). Live changes
 * after that come from the task-event stream the console already follows.
 */
import { isTerminal, NotFoundError, type PublicTask, type TaskError, type TaskRecord, type TaskStatus } from '@sb/contracts';
import { parseTraceparent } from '@sb/observability';

export interface TaskTimelineEntry {
  at: string;
  /** queued: submitted; attempt_failed: one run failed (retried or not); running: the latest run started; then the outcome. */
  kind: 'queued' | 'attempt_failed' | 'running' | 'finished';
  status?: TaskStatus;
  attempt?: number;
  agentId?: string | null;
  code?: string;
  message?: string;
}

export interface TaskDetail extends PublicTask {
  tenantId: string;
  input: unknown;
  timeoutMs: number;
  deadlineAt: string;
  redrives: number;
  traceId: string | null;
  /** Every failed attempt's error, oldest first. */
  errors: TaskError[];
  timeline: TaskTimelineEntry[];
}

export interface TaskDetailPorts {
  /** The public task as GET /v1/tasks/:id answers it (TaskQueries.get). */
  publicTask(tenantId: string, taskId: string): Promise<PublicTask>;
  record(tenantId: string, taskId: string): Promise<{ record: TaskRecord } | undefined>;
}

export async function readTaskDetail(ports: TaskDetailPorts, tenantId: string, taskId: string): Promise<TaskDetail> {
  const task = await ports.publicTask(tenantId, taskId);
  const stored = await ports.record(tenantId, taskId);
  if (!stored) throw new NotFoundError(`Task ${taskId} not found`);
  return toTaskDetail(task, stored.record);
}

export function toTaskDetail(task: PublicTask, r: TaskRecord): TaskDetail {
  return {
    ...task,
    tenantId: r.tenantId,
    input: r.input,
    timeoutMs: r.timeoutMs,
    deadlineAt: r.deadlineAt,
    redrives: r.redrives ?? 0,
    traceId: parseTraceparent(r.traceparent)?.traceId ?? null,
    errors: r.errors,
    timeline: timelineOf(task, r.errors),
  };
}

function timelineOf(task: PublicTask, errors: readonly TaskError[]): TaskTimelineEntry[] {
  const out: TaskTimelineEntry[] = [{ at: task.createdAt, kind: 'queued', status: 'queued' }];
  for (const e of errors) {
    if (!e.at) continue;
    out.push({ at: e.at, kind: 'attempt_failed', attempt: e.attempt, agentId: e.agentId ?? null, code: e.code, message: e.message });
  }
  if (task.startedAt) out.push({ at: task.startedAt, kind: 'running', status: 'running', attempt: task.attempts, agentId: task.agentId });
  if (task.finishedAt && isTerminal(task.status)) {
    const end: TaskTimelineEntry = { at: task.finishedAt, kind: 'finished', status: task.status, agentId: task.agentId };
    if (task.error) Object.assign(end, { code: task.error.code, message: task.error.message });
    out.push(end);
  }
  // Stable: entries with the same time keep the order of the task's life.
  return out.map((e, i) => ({ e, i })).sort((a, b) => Date.parse(a.e.at) - Date.parse(b.e.at) || a.i - b.i).map(({ e }) => e);
}
