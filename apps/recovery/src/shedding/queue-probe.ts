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
  const queueOf = queueSubjectParser(n);
  for await (const ci of jsm.consumers.list(n.queue.stream)) {
    const q = queueOf(ci.config.filter_subject ?? '');
    if (!q) continue;
    let row = out.get(q.capability);
    if (!row) out.set(q.capability, (row = emptyPending()));
    row[q.priority] += ci.num_pending;
  }
  return out;
}

/** Reads `names().queue.subject(capability, priority)` back: its capability and priority, or undefined for another subject. */
export function queueSubjectParser(n: Names): (subject: string) => { capability: string; priority: Priority } | undefined {
  const HOLE = '\u0000';
  const shapes = PRIORITIES.map((priority) => {
    const [head, tail] = n.queue.subject(HOLE, priority).split(HOLE);
    return { priority, head, tail };
  });
  return (subject) => {
    for (const { priority, head, tail } of shapes) {
      if (subject.length > head.length + tail.length && subject.startsWith(head) && subject.endsWith(tail)) {
        return { capability: subject.slice(head.length, subject.length - tail.length), priority };
      }
    }
    return undefined;
  };
}
