/** A finished SDK span as Switchboard stores it: epoch-ms times, service name, safe attributes only. */
import { type Attributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { StoredSpan } from '@sb/contracts';

const KINDS: Record<number, StoredSpan['kind']> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};

/** Attribute names that could carry a secret or a tenant's data: never stored, whoever set them. */
const UNSAFE_ATTRIBUTE = /authorization|cookie|password|passwd|secret|token|credential|api[-_.]?key|bearer|input|payload|body/i;
const MAX_VALUE = 256;
const MAX_ATTRIBUTES = 32;

export function safeAttributes(attrs: Attributes): StoredSpan['attributes'] {
  const out: StoredSpan['attributes'] = {};
  let n = 0;
  for (const [k, v] of Object.entries(attrs)) {
    if (n >= MAX_ATTRIBUTES) break;
    if (UNSAFE_ATTRIBUTE.test(k)) continue;
    if (typeof v === 'string') out[k] = v.length > MAX_VALUE ? v.slice(0, MAX_VALUE) : v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else continue;
    n++;
  }
  return out;
}

const hrMs = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;

export function toStoredSpan(s: ReadableSpan, service: string): StoredSpan {
  const sc = s.spanContext();
  const out: StoredSpan = {
    traceId: sc.traceId,
    spanId: sc.spanId,
    name: s.name.slice(0, 256),
    kind: KINDS[s.kind] ?? 'internal',
    service,
    start: hrMs(s.startTime),
    end: hrMs(s.endTime),
    status: s.status.code === SpanStatusCode.ERROR ? 'error' : s.status.code === SpanStatusCode.OK ? 'ok' : 'unset',
    attributes: safeAttributes(s.attributes),
  };
  const parent = s.parentSpanContext?.spanId;
  if (parent) out.parentSpanId = parent;
  if (s.status.message) out.statusMessage = s.status.message.slice(0, 512);
  return out;
}
