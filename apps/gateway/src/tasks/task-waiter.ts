/**
 * Waits for a task to reach a final state. Subscribes to the task's events first, then checks
 * the stored record, so a finish between the two is never missed.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { isTerminal, type Names, type TaskRecord, type TaskStatus } from '@sb/contracts';

export interface Waiting {
  /** Resolves true when a final-state event arrives, false when `timeoutMs` passes first. */
  done: Promise<boolean>;
  cancel(): void;
}

export function watchForFinish(nc: NatsConnection, names: Names, tenantId: string, taskId: string, timeoutMs: number): Waiting {
  let sub: Subscription | undefined;
  let timer: NodeJS.Timeout | undefined;
  let settle: (v: boolean) => void = () => undefined;
  const done = new Promise<boolean>((resolve) => {
    settle = (v) => {
      clearTimeout(timer);
      sub?.unsubscribe();
      resolve(v);
    };
  });
  sub = nc.subscribe(names.tasks.eventsOfTask(tenantId, taskId), {
    callback: (_err, msg) => {
      const status = msg.subject.slice(msg.subject.lastIndexOf('.') + 1) as TaskStatus;
      if (isTerminal(status)) settle(true);
    },
  });
  timer = setTimeout(() => settle(false), timeoutMs);
  return { done, cancel: () => settle(false) };
}

export function finished(r: TaskRecord | undefined): boolean {
  return r !== undefined && isTerminal(r.status);
}
