/**
 * W3C trace context on NATS headers: continue the caller's trace, or start one; and the span
 * stream that keeps finished spans per trace (`<prefix>.spans.<traceId>`) for task timelines.
 */
import { DiscardPolicy, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/nats-core';
import { Headers, type Names } from '@sb/contracts';
import { parseTraceparent, type SpanSink } from '@sb/observability';
import { ensureStream } from './jetstream-setup';
import type { NatsClient } from './nats-client';
import { randomBytesPooled as randomBytes } from './random';

export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

/** A child span of `parent` (same trace, new span id); a fresh trace if `parent` is absent or invalid. */
export function childTraceparent(parent: string | undefined | null): string {
  const sc = parseTraceparent(parent);
  if (!sc) return newTraceparent();
  return `00-${sc.traceId}-${randomBytes(8).toString('hex')}-${sc.traceFlags & 1 ? '01' : '00'}`;
}

export function traceIdOf(traceparent: string | undefined | null): string | undefined {
  return parseTraceparent(traceparent)?.traceId;
}

/** The caller's traceparent from message headers (undefined when absent or invalid). */
export function traceparentFrom(h: MsgHdrs | undefined): string | undefined {
  const v = h?.get(Headers.TraceParent);
  return v && parseTraceparent(v) ? v : undefined;
}

const NANOS_PER_MS = 1_000_000;

export interface SpanStreamSettings {
  maxAgeMs: number;
  maxBytes: number;
  replicas?: number;
}

export function spanStreamConfig(n: Names, s: SpanStreamSettings): Partial<StreamConfig> & { name: string } {
  return {
    name: n.spans.stream,
    subjects: [n.spans.all],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: s.replicas ?? 1,
    max_age: s.maxAgeMs * NANOS_PER_MS,
    max_bytes: s.maxBytes,
    discard: DiscardPolicy.Old,
    max_msg_size: 1024 * 1024,
  };
}

/**
 * Writes span batches to the span stream with plain publishes (no per-message ack round trip:
 * spans are best effort and must not cost the hot path). The stream is created on first use.
 */
export function natsSpanSink(client: NatsClient, s: SpanStreamSettings): SpanSink {
  let ready: Promise<void> | undefined;
  return {
    async write(batches) {
      ready ??= ensureStream(client.jsm, spanStreamConfig(client.names, s)).catch((e: unknown) => {
        ready = undefined;
        throw e;
      });
      await ready;
      const nc = client.nc;
      if (nc.isClosed()) throw new Error('NATS connection is closed');
      for (const b of batches) nc.publish(client.names.spans.subject(b.traceId), b.data);
    },
  };
}
