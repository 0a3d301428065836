/**
 * Where this gateway hears that a task it waits on has finished, without a subscription per
 * task (subscription churn costs the server on every publish). Workers send the finished task
 * straight to this gateway process (`Events.taskCompletion`, whose subject ends in this process's
 * instance id and is named on the queued message); tasks ended elsewhere (cancel, timeout) are
 * announced to every gateway (`Events.taskEnded`). Both arrive through tasks.nats.ts.
 */
import type { PublicTask } from '@sb/contracts';

export interface Completion {
  /** The finished task when a worker sent it; `null` when it ended elsewhere (read the store); `undefined` on timeout. */
  done: Promise<PublicTask | null | undefined>;
  cancel(): void;
}

interface Waiter {
  resolve(v: PublicTask | null | undefined): void;
}

export class CompletionInbox {
  private readonly waiters = new Map<string, Waiter>();

  constructor(
    /** This process's completion subject, for the queued message's `Sb-Notify` header. */
    readonly subject: string,
  ) {}

  /** A worker finished a task this process waits on (`Events.taskCompletion`). */
  completed(task: unknown): void {
    const id = (task as PublicTask | null | undefined)?.taskId;
    if (typeof id === 'string' && id) this.waiters.get(id)?.resolve(task as PublicTask);
  }

  /** A task ended elsewhere (`Events.taskEnded`, `{taskId}`): its waiter here reads the store. */
  ended(notice: unknown): void {
    const id = (notice as { taskId?: unknown } | null | undefined)?.taskId;
    if (typeof id === 'string' && id) this.waiters.get(id)?.resolve(null);
  }

  expect(taskId: string, timeoutMs: number): Completion {
    let timer: NodeJS.Timeout | undefined;
    let waiter!: Waiter;
    const done = new Promise<PublicTask | null | undefined>((resolve) => {
      waiter = {
        resolve: (v) => {
          clearTimeout(timer);
          if (this.waiters.get(taskId) === waiter) this.waiters.delete(taskId);
          resolve(v);
        },
      };
    });
    this.waiters.set(taskId, waiter);
    timer = setTimeout(() => waiter.resolve(undefined), timeoutMs);
    return { done, cancel: () => waiter.resolve(undefined) };
  }

  /** Waiters still here are answered from the store (`null`), never treated as timed out. */
  stop(): void {
    for (const w of [...this.waiters.values()]) w.resolve(null);
  }
}
