/**
 * How a handler's outcome becomes a `fail` body: RetryableError and PermanentError say so
 * explicitly; anything else thrown is a retryable `agent_error` (code AGENT.ERROR). Codes are
 * made to fit the protocol's alphabet rather than refused.
 */
import {
  AGENT_ERROR_CLASSES,
  type AgentErrorClass,
  type AgentFailure,
  ERROR_CODE_PATTERN,
  MAX_ERROR_MESSAGE,
  MAX_RETRY_AFTER_MS,
} from './protocol';

export const GENERIC_ERROR_CODE = 'AGENT.ERROR';
/** No agent of the runner accepted the task (`canHandle`). */
export const CANNOT_HANDLE_CODE = 'AGENT.CANNOT_HANDLE';
/** The runner stopped before the task finished (after the grace period). */
export const SHUTDOWN_CODE = 'AGENT.SHUTDOWN';
/** The result could not be sent: not JSON, or larger than a message. */
export const RESULT_INVALID_CODE = 'AGENT.RESULT_INVALID';

export interface RetryableErrorOptions {
  /** How the control plane's breakers count it. Default `agent_error`. */
  class?: AgentErrorClass;
  /** For `rate_limited`: wait at least this long before the next attempt. */
  retryAfterMs?: number;
  cause?: unknown;
}

/** The attempt failed but another may succeed: the task is retried with backoff (within its attempt budget). */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  readonly retryable = true;
  readonly class: AgentErrorClass;
  readonly retryAfterMs?: number;

  constructor(
    readonly code: string,
    message: string,
    opts: RetryableErrorOptions = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.class = opts.class ?? 'agent_error';
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** The task can never succeed (bad input, forbidden): it fails now, without retries. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  readonly retryable = false;

  constructor(
    readonly code: string,
    message: string,
    opts: { cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
  }
}

/**
 * A code the protocol accepts (`^[A-Z0-9_.]{1,64}$`): upper-cased, every other character `_`,
 * cut to 64. Nothing usable left: AGENT.ERROR.
 */
export function sanitizeErrorCode(code: unknown): string {
  if (typeof code !== 'string') return GENERIC_ERROR_CODE;
  if (ERROR_CODE_PATTERN.test(code)) return code;
  const cleaned = code
    .trim()
    .toUpperCase()
    .replace(/[^A-Z0-9_.]/g, '_')
    .slice(0, 64);
  return /[A-Z0-9]/.test(cleaned) ? cleaned : GENERIC_ERROR_CODE;
}

function messageOf(err: unknown): string {
  let m: string;
  if (err instanceof Error) m = err.message || err.name;
  else if (typeof err === 'string') m = err;
  else {
    try {
      m = JSON.stringify(err) ?? String(err);
    } catch {
      m = String(err);
    }
  }
  return truncate(m || 'error', MAX_ERROR_MESSAGE);
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

const isClass = (c: unknown): c is AgentErrorClass => typeof c === 'string' && (AGENT_ERROR_CLASSES as readonly string[]).includes(c);

function retryAfter(ms: unknown): number | undefined {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)));
}

/** The `fail.error` body for whatever a handler threw. */
export function toFailure(err: unknown): AgentFailure {
  if (err instanceof RetryableError) {
    const after = retryAfter(err.retryAfterMs);
    return {
      code: sanitizeErrorCode(err.code),
      message: messageOf(err),
      class: isClass(err.class) ? err.class : 'agent_error',
      retryable: true,
      ...(after === undefined ? {} : { retryAfterMs: after }),
    };
  }
  if (err instanceof PermanentError) return { code: sanitizeErrorCode(err.code), message: messageOf(err), class: 'agent_error', retryable: false };
  return { code: GENERIC_ERROR_CODE, message: messageOf(err), class: 'agent_error', retryable: true };
}

/** A failure the SDK itself reports (not thrown by a handler). */
export function sdkFailure(code: string, message: string, retryable: boolean): AgentFailure {
  return { code: sanitizeErrorCode(code), message: truncate(message, MAX_ERROR_MESSAGE), class: 'agent_error', retryable };
}
