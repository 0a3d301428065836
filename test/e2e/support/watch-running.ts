/**
 * Buffers a tenant's `running` events from before a submit, so a test can then await the one
 * for the task id the submit returned without racing the worker.
 */
import type { Fleet } from './fleet';

export function watchRunning(fleet: Fleet, tenantId: string) {
  const seen: string[] = [];
  const waiters = new Map<string, () => void>();
  const sub = fleet.nc.subscribe(`${fleet.prefix}.v1.tasks.events.${tenantId}.*.running`, {
    callback: (_e, m) => {
      const taskId = m.subject.split('.').slice(-2)[0];
      seen.push(taskId);
      waiters.get(taskId)?.();
    },
  });
  return {
    /** Task ids in the order they started running. */
    order: seen,
    started(taskId: string, timeoutMs = 15_000): Promise<void> {
      if (seen.includes(taskId)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`task ${taskId} did not start within ${timeoutMs} ms`)), timeoutMs);
        waiters.set(taskId, () => {
          clearTimeout(t);
          resolve();
        });
      });
    },
    stop: () => sub.unsubscribe(),
  };
}
