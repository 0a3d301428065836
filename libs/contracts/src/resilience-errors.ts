/** Refusals at intake decided by recovery's breakers and load shedding (see errors.ts for the shape). */
import { SbError, type SbErrorOptions } from './errors';

/** Every breaker for the capability is open: the fleet cannot do it right now. */
export class CapabilityUnavailableError extends SbError {
  static readonly code = 'RECOVERY.CAPABILITY_UNAVAILABLE';
  constructor(message = 'The capability is failing everywhere; its circuit breaker is open', options?: SbErrorOptions) {
    super(CapabilityUnavailableError.code, 503, message, true, options);
  }
}

/** Healthy capacity is short of demand: this priority is shed until it recovers. */
export class LoadShedError extends SbError {
  static readonly code = 'RECOVERY.LOAD_SHED';
  constructor(message = 'The fleet is overloaded; this priority is shed for now', options?: SbErrorOptions) {
    super(LoadShedError.code, 503, message, true, options);
  }
}

/** The task was redriven from the dead letters as often as allowed (DLQ_REDRIVE_MAX); it stays dead-lettered. */
export class RedriveLimitError extends SbError {
  static readonly code = 'RECOVERY.REDRIVE_LIMIT';
  constructor(message = 'This task was redriven as often as allowed', options?: SbErrorOptions) {
    super(RedriveLimitError.code, 409, message, false, options);
  }
}
