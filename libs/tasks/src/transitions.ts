/**
 * The task state machine, as pure functions over a record. Each returns the new record, or
 * `undefined` when the transition is not allowed from the current state (the caller then
 * leaves the stored record alone). Stores apply these under compare-and-set.
 */
import { isTerminal, type QueuedTask, type TaskError, type TaskRecord } from '@sb/contracts';

/** `delivery`: the message's delivery count, which can run ahead of `attempt` (deliveries that never reached an agent are not attempts). */
export function markRunning(r: TaskRecord, agentId: string, attempt: number, now: Date, delivery = attempt): TaskRecord | undefined {
  if (isTerminal(r.status)) return undefined;
  // At least the delivery count: a first run whose running record was never written (deferred,
  // then handed back) left no epoch in the record, and its redelivery must not reuse its epoch.
  const epoch = Math.max((r.lease?.epoch ?? 0) + 1, delivery);
  return { ...r, status: 'running', agentId, attempts: attempt, startedAt: now.toISOString(), error: null, lease: { agentId, epoch } };
}

export function markSucceeded(r: TaskRecord, result: unknown, now: Date): TaskRecord | undefined {
  if (r.status !== 'running') return undefined;
  return { ...r, status: 'succeeded', result, error: null, finishedAt: now.toISOString(), progress: undefined };
}

/** A failed attempt that will be retried: back to queued, error kept in the history. */
export function markRetrying(r: TaskRecord, error: TaskError): TaskRecord | undefined {
  if (isTerminal(r.status)) return undefined;
  return { ...r, status: 'queued', error, errors: [...r.errors, error] };
}

export function markFailed(r: TaskRecord, error: TaskError, now: Date): TaskRecord | undefined {
  if (isTerminal(r.status)) return undefined;
  return { ...r, status: 'failed', error, errors: [...r.errors, error], finishedAt: now.toISOString() };
}

export function markDeadLettered(r: TaskRecord, error: TaskError, now: Date): TaskRecord | undefined {
  if (isTerminal(r.status)) return undefined;
  return { ...r, status: 'dead_lettered', error, errors: [...r.errors, error], finishedAt: now.toISOString() };
}

export function markCancelled(r: TaskRecord, now: Date): TaskRecord | undefined {
  if (isTerminal(r.status)) return undefined;
  const error: TaskError = { code: 'TASK.CANCELLED', message: 'The task was cancelled', retryable: false, at: now.toISOString() };
  return { ...r, status: 'cancelled', error, finishedAt: now.toISOString() };
}

export function markTimedOut(r: TaskRecord, now: Date): TaskRecord | undefined {
  if (isTerminal(r.status)) return undefined;
  const error: TaskError = {
    code: 'TASK.TIMED_OUT',
    message: `The task did not finish within ${r.timeoutMs} ms`,
    retryable: false,
    at: now.toISOString(),
  };
  return { ...r, status: 'timed_out', error, finishedAt: now.toISOString() };
}

export function isPastDeadline(r: Pick<TaskRecord, 'deadlineAt'>, now: Date): boolean {
  return now.getTime() > Date.parse(r.deadlineAt);
}

/** True while `r` is still running under exactly this lease (the holder may write and keep it alive). */
export function holdsLease(r: TaskRecord, lease: TaskRecord['lease']): boolean {
  return r.status === 'running' && !!lease && r.lease?.agentId === lease.agentId && r.lease?.epoch === lease.epoch;
}

/** Put a task its holder lost (agent down) back to queued, so the next start takes a new lease. */
export function markReclaimed(r: TaskRecord, lease: TaskRecord['lease']): TaskRecord | undefined {
  if (!holdsLease(r, lease)) return undefined;
  return { ...r, status: 'queued' };
}

/** A dead-lettered task queued again (redrive): a fresh attempt cycle with the redriven input, priority and deadline. */
export function markRedriven(r: TaskRecord, task: Pick<QueuedTask, 'input' | 'priority' | 'deadlineAt' | 'redrives'>): TaskRecord | undefined {
  if (r.status !== 'dead_lettered') return undefined;
  return {
    ...r,
    status: 'queued',
    input: task.input,
    priority: task.priority,
    deadlineAt: task.deadlineAt,
    redrives: task.redrives,
    errors: [],
    error: null,
    attempts: 0,
    result: undefined,
    progress: undefined,
    startedAt: null,
    finishedAt: null,
  };
}

export function withProgress(r: TaskRecord, progress: unknown): TaskRecord | undefined {
  if (r.status !== 'running') return undefined;
  return { ...r, progress };
}

/** The record of a task just queued. The gateway stores exactly this; a worker rebuilds it from the message to skip a read. */
export function queuedRecord(task: QueuedTask, traceparent: string | undefined): TaskRecord {
  const r: TaskRecord = { ...task, status: 'queued', errors: [], attempts: 0 };
  if (traceparent) r.traceparent = traceparent;
  return r;
}
