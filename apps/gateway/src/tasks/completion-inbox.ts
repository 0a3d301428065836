/**
 * Where this gateway hears that a task it waits on has finished, without a subscription per
 * task (subscription churn costs the server on every publish). Workers send the finished task
 * straight to this gateway's inbox subject (named on the queued message); tasks that another
 * gateway ends (cancel, timeout) are announced on one shared subject.
 */
import { randomBytes } from 'node:crypto';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Names, PublicTask } from '@sb/contracts';

export interface Completion {
  /** The finished task when a worker sent it; `null` when it ended elsewhere (read the store); `undefined` on timeout. */
  done: Promise<PublicTask | null | undefined>;
  cancel(): void;
}

interface Waiter {
  resolve(v: PublicTask | null | undefined): void;
}

export class CompletionInbox {
  readonly id = randomBytes(8).toString('hex');
  readonly subject: string;
  private readonly waiters = new Map<string, Waiter>();
  private readonly subs: Subscription[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: Names,
  ) {
    this.subject = names.internal.taskDone(this.id);
  }

  start(): void {
    this.subs.push(
      this.nc.subscribe(this.subject, {
        callback: (_e, msg) => {
          const task = parse<PublicTask>(msg.data);
          if (task?.taskId) this.waiters.get(task.taskId)?.resolve(task);
        },
      }),
      this.nc.subscribe(this.names.internal.taskEnded, {
        callback: (_e, msg) => {
          const id = parse<{ taskId?: string }>(msg.data)?.taskId;
          if (id) this.waiters.get(id)?.resolve(null);
        },
      }),
    );
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
    for (const s of this.subs.splice(0)) {
      try {
        s.unsubscribe();
      } catch {
        /* the connection is already closed */
      }
    }
    for (const w of [...this.waiters.values()]) w.resolve(null);
  }
}

function parse<T>(data: Uint8Array): T | undefined {
  try {
    return JSON.parse(new TextDecoder().decode(data)) as T;
  } catch {
    return undefined;
  }
}
