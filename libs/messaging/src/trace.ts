/**
 * W3C trace context on NATS headers: continue the caller's trace, or start one; and the span
 * stream that keeps finished spans per trace (`<prefix>.spans.<traceId>`) for task timelines.
 */
import type { MsgHdrs } from '@nats-io/nats-core';
import { DEFAULT_TOPOLOGY_SETTINGS, Headers, Streams, type TopologySettings } from '@sb/contracts';
import { parseTraceparent, type SpanSink } from '@sb/observability';
import { ensureStream, streamConfig } from './jetstream-setup';
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

/**
 * Writes span batches to the span stream with plain publishes (no per-message ack round trip:
 * spans are best effort and must not cost the hot path). The stream is created on first use.
 */
export function natsSpanSink(client: NatsClient, s: TopologySettings = DEFAULT_TOPOLOGY_SETTINGS): SpanSink {
  let ready: Promise<void> | undefined;
  return {
    async write(batches) {
      ready ??= ensureStream(client.jsm, streamConfig(client.names, 'spans', s), Streams.spans.owner === client.self.service).catch((e: unknown) => {
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
