/**
 * Reads one trace's spans back from the span stream: an ordered consumer filtered on the
 * trace's subject, from the first message up to the last one present when the read began,
 * bounded in messages and in time. A missing stream or trace is an empty trace, not an error.
 */
import { type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { tryDecode } from '@sb/messaging';
import { type Names, SpanBatchSchema, type StoredSpan } from '@sb/contracts';

export interface SpanRead {
  spans: StoredSpan[];
  /** The read stopped at a bound before reaching the last message. */
  truncated: boolean;
}

export interface SpanReaderPort {
  read(traceId: string): Promise<SpanRead>;
}

export interface SpanReaderLimits {
  maxMessages: number;
  maxSpans: number;
  maxWaitMs: number;
}
export const DEFAULT_SPAN_READER_LIMITS: SpanReaderLimits = { maxMessages: 1_000, maxSpans: 5_000, maxWaitMs: 2_000 };


export class SpanReader implements SpanReaderPort {
  constructor(
    private readonly js: () => JetStreamClient,
    private readonly jsm: () => JetStreamManager,
    private readonly names: Names,
    private readonly limits: SpanReaderLimits = DEFAULT_SPAN_READER_LIMITS,
  ) {}

  async read(traceId: string): Promise<SpanRead> {
    const stream = this.names.spans.stream;
    const subject = this.names.spans.subject(traceId);
    let last: number;
    try {
      last = (await this.jsm().streams.getMessage(stream, { last_by_subj: subject }))?.seq ?? 0;
    } catch (e) {
      if (isNotFound(e)) return { spans: [], truncated: false };
      throw e;
    }
    if (!last) return { spans: [], truncated: false };
    const consumer = await this.js().consumers.get(stream, { filter_subjects: subject });
    const messages = await consumer.consume({ max_messages: Math.min(256, this.limits.maxMessages) });
    let timedOut = false;
    const guard = setTimeout(() => {
      timedOut = true;
      void messages.close();
    }, this.limits.maxWaitMs);
    const spans: StoredSpan[] = [];
    let count = 0;
    let reachedEnd = false;
    try {
      for await (const m of messages) {
        count++;
        const parsed = SpanBatchSchema.safeParse(tryDecode(m.data));
        if (parsed.success) for (const s of parsed.data.spans) if (s.traceId === traceId && spans.length < this.limits.maxSpans) spans.push(s);
        if (m.seq >= last || m.info.pending === 0) {
          reachedEnd = true;
          break;
        }
        if (count >= this.limits.maxMessages || spans.length >= this.limits.maxSpans) break;
      }
    } finally {
      clearTimeout(guard);
      await messages.close();
    }
    return { spans, truncated: !reachedEnd || timedOut };
  }
}

function isNotFound(e: unknown): boolean {
  const err = e as { code?: unknown; message?: string; name?: string };
  return err?.code === 404 || err?.code === '404' || /not found|no message/i.test(err?.message ?? '') || err?.name === 'StreamNotFoundError';
}

