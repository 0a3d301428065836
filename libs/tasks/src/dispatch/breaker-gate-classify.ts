/**
 * Which class an attempt's failure belongs to, for the circuit breakers (and on the stored
 * TaskError as `class`). Conventions an agent can rely on:
 *  - a provider's rate limit: an error with `status`/`statusCode` 429, or a code containing
 *    RATE_LIMIT / TOO_MANY_REQUESTS / 429 → rate_limited (backs off, never trips a breaker)
 *  - a dependency outage: status 502/503/504, a code containing DEPENDENCY or UNAVAILABLE, or a
 *    network error (ECONNREFUSED, ECONNRESET, ENOTFOUND, EAI_AGAIN, EPIPE, EHOSTUNREACH) → dependency
 *  - the task's deadline, or a code containing TIMEOUT / ETIMEDOUT → timeout
 *  - cancelled by a caller, handed back on shutdown, or reclaimed → cancelled
 *  - anything else the agent threw (non-retryable errors, bugs) → agent_error
 */
import type { ErrorClass } from '@sb/contracts';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);

function statusOf(e: Record<string, unknown>): number | undefined {
  const s = e.status ?? e.statusCode ?? (e.response as Record<string, unknown> | undefined)?.status;
  return typeof s === 'number' ? s : typeof s === 'string' && /^\d{3}$/.test(s) ? Number(s) : undefined;
}

/** `abortReason`: the task's abort signal reason when it was aborted. */
export function classifyFailure(e: unknown, abortReason?: string): ErrorClass {
  if (abortReason === 'timed_out') return 'timeout';
  if (abortReason !== undefined) return 'cancelled';
  if (e === null || typeof e !== 'object') return 'agent_error';
  const err = e as Record<string, unknown>;
  const status = statusOf(err);
  const code = typeof err.code === 'string' ? err.code.toUpperCase() : '';
  if (status === 429 || /RATE_?LIMIT|TOO_MANY_REQUESTS|(^|\D)429(\D|$)/.test(code)) return 'rate_limited';
  if (/TIMEOUT|TIMED_OUT|ETIMEDOUT/.test(code) || err.name === 'TimeoutError') return 'timeout';
  if ((status !== undefined && status >= 502 && status <= 504) || /DEPENDENCY|UNAVAILABLE/.test(code) || NETWORK_CODES.has(code)) return 'dependency';
  return 'agent_error';
}

/**
 * The provider's own hint of how long to wait before retrying a rate-limited attempt:
 * `retryAfterMs`, or `retryAfter` in seconds, also under `headers['retry-after']`; 0 when there
 * is none. The task lifecycle waits at least this long, never less than the normal backoff and
 * at most the backoff ceiling.
 */
export function retryAfterHintMs(e: unknown): number {
  const err = (e ?? {}) as Record<string, unknown>;
  const headers = (err.headers ?? (err.response as Record<string, unknown> | undefined)?.headers) as Record<string, unknown> | undefined;
  const secs = Number(err.retryAfter ?? headers?.['retry-after']);
  return typeof err.retryAfterMs === 'number' ? err.retryAfterMs : Number.isFinite(secs) ? secs * 1000 : 0;
}
