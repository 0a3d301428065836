/**
 * What JetStream knows about the work: tasks waiting per capability and priority (num_pending
 * of each task consumer, read from its filter subject) and dead letters per capability (the
 * DLQ stream's message count per subject). A missing stream means zero, not an error.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { type Names, PRIORITIES, type Priority } from '@sb/contracts';

export interface QueueDepth {
  capability: string;
  priority: Priority;
  pending: number;
}

export interface QueueProbePort {
  pending(): Promise<QueueDepth[]>;
  deadLetters(): Promise<Map<string, number>>;
}

export class JetStreamQueueProbe implements QueueProbePort {
  constructor(
    private readonly jsm: JetStreamManager,
    private readonly n: Names,
  ) {}

  async pending(): Promise<QueueDepth[]> {
    const out: QueueDepth[] = [];
    const head = this.n.queue.subject('', 'high').split('.')[0];
    try {
      for await (const ci of this.jsm.consumers.list(this.n.queue.stream)) {
        // `<prefix>.q.<capability>.<priority>`
        const parts = (ci.config.filter_subject ?? '').split('.');
        if (parts.length !== 4 || parts[0] !== head || parts[1] !== 'q') continue;
        const priority = parts[3] as Priority;
        if (!PRIORITIES.includes(priority)) continue;
        out.push({ capability: parts[2], priority, pending: ci.num_pending });
      }
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    return out;
  }

  async deadLetters(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const base = this.n.deadLetters.subject('');
    try {
      const si = await this.jsm.streams.info(this.n.deadLetters.stream, { subjects_filter: this.n.deadLetters.all });
      for (const [subject, count] of Object.entries(si.state.subjects ?? {})) {
        if (subject.startsWith(base)) out.set(subject.slice(base.length), count);
      }
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    return out;
  }
}

function isNotFound(e: unknown): boolean {
  return (e as { name?: string }).name === 'StreamNotFoundError' || /not found/i.test((e as Error)?.message ?? '');
}
