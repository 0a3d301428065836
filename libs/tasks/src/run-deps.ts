/**
 * What a task's run needs and shares (task-runs.ts starts deliveries, task-run.ts carries one to
 * its end): the delivery as the worker holds it, the run's dependencies, and the final
 * transitions both sides make (settle, dead-letter).
 */
import { type DeadLetter, type ErrorClass, Headers, type QueuedTask, type TaskError, type TaskRecord } from '@sb/contracts';
import type { RetryPolicy } from '@sb/messaging';
import type { MsgHdrs } from '@nats-io/nats-core';
import type { TaskAnnouncer } from './task-announcer';
import type { TaskQueue } from './task-queue';
import type { TaskStore, Versioned } from './task-store';
import { markDeadLettered } from './transitions';

/** A queued task's message as the worker holds it (libs/messaging's PulledMessage). */
export interface Delivery {
  readonly headers?: MsgHdrs;
  readonly info: { deliveryCount: number };
  readonly isSettled: boolean;
  ack(): void;
  nak(delayMs?: number): void;
  term(): void;
  working(): void;
}

export interface RunDeps {
  store: TaskStore;
  queue: TaskQueue;
  announcer: TaskAnnouncer;
  retry: RetryPolicy;
  workerId: string;
  now: () => Date;
  /** A reclaimed task's late result, dropped. */
  onSuperseded?: (taskId: string, lease: TaskRecord['lease'], holder: TaskRecord['lease']) => void;
  /**
   * A first delivery's `running` record is written only once the run has lasted this long, or at
   * its first progress or failure; a task that finishes sooner goes from `queued` straight to its
   * outcome in one write (its outcome record still names the lease, agent and start time). Its
   * `running` event goes out at the start either way: every state change has its event, and the
   * record catches up within this long. 0 or absent: written before the agent gets the task.
   */
  recordRunningAfterMs?: number;
  /**
   * The deferred running record lost its compare-and-set: the task was cancelled or timed out
   * while queued (`ended`), or another delivery of it started. The run must end: nothing it
   * reports can be stored.
   */
  onRunningRecordLost?: (taskId: string, ended: boolean) => void;
}

/** What the worker reports when an attempt fails. */
export interface Failure {
  code: string;
  message: string;
  class?: ErrorClass;
  /** At least this long before the next attempt (a provider's Retry-After). */
  minDelayMs?: number;
}

export type Completion = 'stored' | 'superseded' | 'failed';

/** A started delivery's record: `recorded` false when the running record is not written yet (the revision is still the queued one). */
export type Started = Versioned & { recorded?: boolean };

/** Apply a final transition (if still allowed), announce it, and acknowledge the message. */
export async function settleWith(d: RunDeps, task: QueuedTask, msg: Delivery, change: (r: TaskRecord) => TaskRecord | undefined): Promise<void> {
  const { applied, current } = await d.store.transition(task.tenantId, task.taskId, change);
  if (applied && current) d.announcer.changed(current.record, msg.headers?.get(Headers.Notify) || undefined);
  msg.ack();
}

export async function deadLetter(d: RunDeps, task: QueuedTask, msg: Delivery, record: TaskRecord, err: TaskError): Promise<void> {
  const entry: DeadLetter = { task, errors: [...record.errors, err], deadLetteredAt: d.now().toISOString() };
  await d.queue.deadLetter(entry);
  await settleWith(d, task, msg, (r) => markDeadLettered(r, err, d.now()));
}

export function taskError(d: RunDeps, code: string, message: string, retryable: boolean, attempt: number, cls?: ErrorClass): TaskError {
  const err: TaskError = { code, message: message.slice(0, 2000), retryable, attempt, agentId: d.workerId, at: d.now().toISOString() };
  if (cls) err.class = cls;
  return err;
}

/** The wait before the next attempt: the backoff, or a provider's hint when longer, capped at the backoff ceiling (never below the backoff). */
export function retryDelayMs(backoff: number, hintMs: number | undefined, maxMs: number): number {
  if (!hintMs) return backoff;
  return Math.min(Math.max(backoff, maxMs), Math.max(backoff, hintMs));
}
