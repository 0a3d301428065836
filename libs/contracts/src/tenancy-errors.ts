/** Tenancy's refusals: one class per condition (see errors.ts for the shape). */
import { SbError, type SbErrorOptions } from './errors';

export class QuotaExceededError extends SbError {
  static readonly code = 'TENANCY.QUOTA_EXCEEDED';
  constructor(message = 'The tenant quota for this period is used up', options?: SbErrorOptions) {
    super(QuotaExceededError.code, 429, message, true, options);
  }
}

export class ModelNotAllowedError extends SbError {
  static readonly code = 'TENANCY.MODEL_NOT_ALLOWED';
  constructor(message = "The tenant's plan does not allow this model", options?: SbErrorOptions) {
    super(ModelNotAllowedError.code, 403, message, false, options);
  }
}

export class ConcurrencyLimitError extends SbError {
  static readonly code = 'TENANCY.CONCURRENCY_LIMIT';
  constructor(message = 'The tenant runs as many tasks as its plan allows', options?: SbErrorOptions) {
    super(ConcurrencyLimitError.code, 429, message, true, options);
  }
}
