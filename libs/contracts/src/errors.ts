/**
 * Errors on the wire: one class per condition, a stable string code, an HTTP-like status,
 * whether a retry can help, and `cause` kept through ErrorOptions. No Nest imports here.
 */
export interface WireError {
  code: string;
  message: string;
  retryable: boolean;
  retryAfter?: number;
  details?: unknown;
}
export interface WireErrorBody {
  error: WireError;
}

export interface SbErrorOptions extends ErrorOptions {
  retryAfter?: number;
  details?: unknown;
}

export class SbError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly retryAfter?: number;
  readonly details?: unknown;

  constructor(code: string, status: number, message: string, retryable: boolean, options: SbErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.retryable = retryable;
    this.retryAfter = options.retryAfter;
    this.details = options.details;
  }

  toWire(): WireErrorBody {
    const error: WireError = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.retryAfter !== undefined) error.retryAfter = this.retryAfter;
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

const define = (code: string, status: number, retryable: boolean, defaultMessage: string) =>
  class extends SbError {
    static readonly code = code;
    constructor(message: string = defaultMessage, options?: SbErrorOptions) {
      super(code, status, message, retryable, options);
    }
  };

export class ValidationError extends define('REQUEST.INVALID', 400, false, 'The request is invalid') {}
export class MalformedError extends define('REQUEST.MALFORMED', 400, false, 'The request body is not valid JSON') {}
export class PayloadTooLargeError extends define('REQUEST.TOO_LARGE', 413, false, 'The request is too large') {}
export class InvalidCredentialsError extends define('AUTH.INVALID_CREDENTIALS', 401, false, 'Missing or invalid credentials') {}
export class ForbiddenError extends define('AUTH.FORBIDDEN', 403, false, 'The credentials lack a required permission') {}
export class NotFoundError extends define('RESOURCE.NOT_FOUND', 404, false, 'Not found') {}
export class ConflictError extends define('RESOURCE.CONFLICT', 409, false, 'The resource changed or is in a conflicting state') {}
export class UnknownCapabilityError extends define('TASK.UNKNOWN_CAPABILITY', 400, false, 'No agent in the fleet has this capability') {}
export class TaskNotCancellableError extends define('TASK.NOT_CANCELLABLE', 409, false, 'The task already finished') {}
export class TenantInactiveError extends define('TENANCY.TENANT_INACTIVE', 403, false, 'The tenant is not active') {}
export class RateLimitedError extends define('RATE_LIMIT.EXCEEDED', 429, true, 'Too many requests') {}
export class UnavailableError extends define('SERVICE.UNAVAILABLE', 503, true, 'The service is temporarily unavailable') {}
export class TimeoutError extends define('SERVICE.TIMEOUT', 503, true, 'A dependency did not answer in time') {}
export class InternalError extends define('INTERNAL', 500, false, 'Internal error') {}

// ---- agent protocol (docs/agent-protocol.md): each refusal is also a security event ----------
export class AgentSessionError extends define('AGENT.SESSION', 401, false, 'No session, or not this agent id’s session') {}
export class NotLeasedError extends define('AGENT.NOT_LEASED', 409, false, 'The task is not leased to this agent') {}
export class LeaseLostError extends define('AGENT.LEASE_LOST', 409, false, 'The lease is no longer current (reclaimed, cancelled or timed out)') {}
export class AgentIdInUseError extends define('AGENT.ID_IN_USE', 409, false, 'The agent id is up under another session') {}
/** The fleet, or the agent key registering, has as many agents as it may (down and departed ones count until forgotten). */
export class AgentLimitError extends define('AGENT.LIMIT_REACHED', 429, true, 'No room for another agent') {}
export class NotCapableError extends define('AGENT.NOT_CAPABLE', 403, false, 'The agent did not register this capability') {}

/** Rebuild an error received on the wire so callers can branch on `code` and re-emit it unchanged. */
export function errorFromWire(status: number, body: WireError): SbError {
  return new SbError(body.code, status, body.message, body.retryable, { retryAfter: body.retryAfter, details: body.details });
}

export function isSbError(e: unknown): e is SbError {
  return e instanceof SbError;
}

/** Errors from NATS, JetStream or Redis clients: a dependency is down or slow, so "retry later", not "bug". */
const DEPENDENCY_ERROR_NAMES = new Set([
  'TimeoutError',
  'NoRespondersError',
  'RequestError',
  'ConnectionError',
  'ClosedConnectionError',
  'DrainingConnectionError',
  'JetStreamApiError',
  'JetStreamError',
  'JetStreamStatusError',
  'MaxRetriesPerRequestError',
]);

/**
 * What an unexpected error becomes on the wire: a dependency failure is a retryable 503
 * (cause kept for the log), anything else INTERNAL. `unexpected` says whether it is worth a stack trace.
 */
export function fromUnexpected(e: unknown): { err: SbError; unexpected: boolean } {
  if (isSbError(e)) return { err: e, unexpected: false };
  const name = (e as Error)?.name ?? '';
  const message = (e as Error)?.message ?? '';
  if (DEPENDENCY_ERROR_NAMES.has(name) || /Connection is closed|ECONNREFUSED|Command timed out/.test(message)) {
    return { err: new UnavailableError('A dependency is unavailable; retry shortly', { cause: e, retryAfter: 1 }), unexpected: true };
  }
  return { err: new InternalError(), unexpected: true };
}
