/**
 * When a failed delivery is tried again. 2xx is delivered; a network error, a timeout, 408,
 * 429 and 5xx are retried with the shared exponential backoff (`backoffMs` of @sb/messaging:
 * base·2^(attempt-1), capped at maxMs, ±20% jitter; 429/503 no sooner than their Retry-After);
 * any other 4xx is a permanent refusal (a bad routing key will not heal by itself), and so is a
 * target the SSRF guard refuses. After `maxAttempts` the delivery is given up.
 */
import type { DeliveryOutcome } from '@sb/contracts';
import { backoffMs, type RetryPolicy } from '@sb/messaging';

/** NOTIFY_BACKOFF_BASE_MS / NOTIFY_BACKOFF_MAX_MS. */
export type BackoffSettings = Pick<RetryPolicy, 'baseMs' | 'maxMs'>;
/** Retry-After beyond this is not honoured as given (a receiver cannot park a delivery for a day). */
export const MAX_RETRY_AFTER_MS = 3600_000;

/** `Retry-After` as seconds or an HTTP date, in ms from `nowMs`; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Math.min(Number(v) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(at - nowMs, 0), MAX_RETRY_AFTER_MS);
}

/** `refused`: the SSRF guard would not send it (a non-public address): permanent, never retried. */
export type AttemptResult = { kind: 'response'; status: number; retryAfterMs?: number } | { kind: 'error'; message: string } | { kind: 'refused'; message: string };

export function isRetryable(r: AttemptResult): boolean {
  if (r.kind === 'refused') return false;
  if (r.kind === 'error') return true;
  return r.status === 408 || r.status === 429 || r.status >= 500;
}

export interface Decision {
  outcome: Extract<DeliveryOutcome, 'delivered' | 'retrying' | 'failed' | 'gave_up'>;
  /** Set when `retrying`. */
  retryInMs: number | null;
}

export function decide(r: AttemptResult, attempt: number, maxAttempts: number, s: BackoffSettings, random: () => number = Math.random): Decision {
  if (r.kind === 'response' && r.status >= 200 && r.status < 300) return { outcome: 'delivered', retryInMs: null };
  if (!isRetryable(r)) return { outcome: 'failed', retryInMs: null };
  if (attempt >= maxAttempts) return { outcome: 'gave_up', retryInMs: null };
  const backoff = backoffMs(s, attempt, random);
  const floor = r.kind === 'response' ? (r.retryAfterMs ?? 0) : 0;
  return { outcome: 'retrying', retryInMs: Math.max(backoff, floor) };
}
