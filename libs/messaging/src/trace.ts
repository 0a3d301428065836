/** W3C trace context on NATS headers: continue the caller's trace, or start one. */
import { randomBytesPooled as randomBytes } from './random';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

/** A child span of `parent` (same trace, new span id); a fresh trace if `parent` is absent or invalid. */
export function childTraceparent(parent: string | undefined | null): string {
  const m = parent ? TRACEPARENT.exec(parent.trim()) : null;
  if (!m || /^0+$/.test(m[1]) || /^0+$/.test(m[2])) return newTraceparent();
  return `00-${m[1]}-${randomBytes(8).toString('hex')}-${m[3]}`;
}

export function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent ? TRACEPARENT.exec(traceparent)?.[1] : undefined;
}
