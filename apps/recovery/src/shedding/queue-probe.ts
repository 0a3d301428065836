/**
 * How much work waits per capability and priority: one consumer listing of the task stream
 * (num_pending of each `<capability>.<priority>` consumer), so the cost is one API call per
 * tick whatever the fleet size.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { type Names, PRIORITIES, type Priority } from '@sb/contracts';

export type PendingByCapability = Map<string, Record<Priority, number>>;

export const emptyPending = (): Record<Priority, number> => ({ high: 0, normal: 0, low: 0 });

export async function queuePending(jsm: JetStreamManager, n: Names): Promise<PendingByCapability> {
  const out: PendingByCapability = new Map();
  const head = `${n.prefix}.q.`;
  for await (const ci of jsm.consumers.list(n.queue.stream)) {
    const subject = ci.config.filter_subject ?? '';
    if (!subject.startsWith(head)) continue;
    const rest = subject.slice(head.length);
    const dot = rest.lastIndexOf('.');
    const capability = rest.slice(0, dot);
    const priority = rest.slice(dot + 1) as Priority;
    if (dot <= 0 || !PRIORITIES.includes(priority)) continue;
    let row = out.get(capability);
    if (!row) out.set(capability, (row = emptyPending()));
    row[priority] += ci.num_pending;
  }
  return out;
}
