/**
 * What the work queue holds, per capability and priority: tasks not yet handed to an agent
 * (the task consumer's num_pending) and how long the oldest of them has waited (the first
 * message on the consumer's subject after the last one it delivered). The gateway owns the
 * tasks stream, so it reads it itself rather than asking the collector. At most MAX_CONSUMERS
 * consumers are read per probe, and the age costs a request only where tasks are waiting.
 */
import type { JetStreamManager, MsgRequest } from '@nats-io/jetstream';
import { type Names, PRIORITIES, type Priority } from '@sb/contracts';

export const MAX_CONSUMERS = 128;

export interface QueueState {
  capability: string;
  priority: Priority;
  pending: number;
  /** Seconds the oldest waiting task has waited; null when none waits (or it could not be read). */
  oldestAgeSeconds: number | null;
}

export interface QueueProbePort {
  read(now: number): Promise<QueueState[]>;
}

export class JetStreamQueueState implements QueueProbePort {
  constructor(
    private readonly jsm: () => JetStreamManager,
    private readonly n: Names,
  ) {}

  async read(now: number): Promise<QueueState[]> {
    const jsm = this.jsm();
    const stream = this.n.queue.stream;
    const out: QueueState[] = [];
    try {
      for await (const ci of jsm.consumers.list(stream)) {
        const filter = ci.config.filter_subject ?? '';
        const parsed = this.parse(filter);
        if (!parsed) continue;
        let oldestAgeSeconds: number | null = null;
        if (ci.num_pending > 0) {
          // STREAM.MSG.GET with next_by_subj (nats-server 2.9+); the client's type lists only seq and last_by_subj.
          const query = { next_by_subj: filter, seq: ci.delivered.stream_seq + 1 } as unknown as MsgRequest;
          const m = await jsm.streams.getMessage(stream, query).catch(() => null);
          if (m) oldestAgeSeconds = Math.max(0, (now - m.time.getTime()) / 1000);
        }
        out.push({ ...parsed, pending: ci.num_pending, oldestAgeSeconds });
        if (out.length >= MAX_CONSUMERS) break;
      }
    } catch (e) {
      // No tasks stream yet: nothing queued.
      if (!/not found/i.test((e as Error)?.message ?? '')) throw e;
    }
    return out;
  }

  /** `<prefix>.q.<capability>.<priority>` (names.queue.subject) → its capability and priority. */
  private parse(filter: string): { capability: string; priority: Priority } | undefined {
    const base = `${this.n.prefix}.q.`;
    if (!filter.startsWith(base)) return undefined;
    const [capability, priority, ...rest] = filter.slice(base.length).split('.');
    if (rest.length > 0 || !capability || !PRIORITIES.includes(priority as Priority)) return undefined;
    return this.n.queue.subject(capability, priority as Priority) === filter ? { capability, priority: priority as Priority } : undefined;
  }
}
