/** W3C trace context (`traceparent`) parsing and formatting, without a tracer. */
import { type SpanContext, TraceFlags } from '@opentelemetry/api';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const ALL_ZERO = /^0+$/;

/** The remote span context a `traceparent` names, or undefined if it is absent or invalid (per W3C: version ff, zero ids). */
export function parseTraceparent(value: string | undefined | null): SpanContext | undefined {
  if (!value) return undefined;
  const m = TRACEPARENT.exec(value.trim().toLowerCase());
  if (!m || m[1] === 'ff' || ALL_ZERO.test(m[2]) || ALL_ZERO.test(m[3])) return undefined;
  // Version 00 has exactly four fields; later versions may append more.
  if (m[1] === '00' && value.trim().length !== 55) return undefined;
  return { traceId: m[2], spanId: m[3], traceFlags: parseInt(m[4], 16) & TraceFlags.SAMPLED, isRemote: true };
}

export function formatTraceparent(sc: Pick<SpanContext, 'traceId' | 'spanId' | 'traceFlags'>): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '01' : '00'}`;
}
