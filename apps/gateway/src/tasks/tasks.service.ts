/**
 * The one path every task request takes, whichever transport brought it. The adapters have
 * already authenticated the caller (AuthGuard, `@RequireScope`) and validated the body with the
 * contract schema (`contract(...)` pipes); here: admit, limit, then the handler or the query.
 */
import {
  type ListTasksQuery,
  modelAllowed,
  ModelNotAllowedError,
  type Principal,
  type PublicTask,
  type SubmitReply,
  type SubmitTaskRequest,
  ValidationError,
} from '@sb/contracts';
import { childTraceparent } from '@sb/messaging';
import type { Admission } from './admission';
import type { RateLimitInfo, SubmitLimits } from './submit-limits';
import type { SubmitTaskHandler } from './submit-task.handler';
import type { TaskQueries } from './task-queries';

export interface RequestMeta {
  idempotencyKey?: string;
  /** The caller's `traceparent`. */
  traceparent?: string;
  /** The traceparent of the submission's own span (`@RequestSpan`): the queued task continues it. */
  spanTraceparent?: string;
  /** Called with the submission's rate-limit state (allowed or not), for RateLimit-* headers. */
  onRateLimit?: (info: RateLimitInfo) => void;
  transport?: 'http' | 'nats';
}

const MAX_IDEMPOTENCY_KEY = 255;

export class TasksService {
  constructor(
    private readonly admission: Admission,
    private readonly submitHandler: SubmitTaskHandler,
    private readonly queries: TaskQueries,
    private readonly limits: SubmitLimits,
  ) {}

  /** Runs inside the submission's span (see RequestSpan): over NATS a child of the served request, over HTTP of the caller's `traceparent`. */
  async submit(req: SubmitTaskRequest, principal: Principal, meta: RequestMeta): Promise<SubmitReply | PublicTask> {
    const idempotencyKey = meta.idempotencyKey?.trim() || undefined;
    if (idempotencyKey && idempotencyKey.length > MAX_IDEMPOTENCY_KEY) {
      throw new ValidationError(`Idempotency-Key: at most ${MAX_IDEMPOTENCY_KEY} characters`);
    }
    // The queued task (and its record) carry the submit span, so the run continues this trace.
    const traceparent = meta.spanTraceparent ?? childTraceparent(meta.traceparent);
    const policy = await this.admission.admit(principal.tenantId);
    const model = req.metadata.model;
    if (model !== undefined && (typeof model !== 'string' || !modelAllowed(policy.limits, model))) {
      throw new ModelNotAllowedError(`The ${policy.plan} plan of this tenant does not allow the model ${JSON.stringify(model)}`, { details: { allowed: policy.limits.models } });
    }
    await this.limits.admitSubmission(policy, principal.keyId, meta.onRateLimit, meta.transport);
    return this.submitHandler.handle(req, { tenantId: principal.tenantId, idempotencyKey, traceparent, maxConcurrent: policy.limits.maxConcurrent });
  }

  get(principal: Principal, taskId: string): Promise<PublicTask> {
    return this.queries.get(principal.tenantId, taskId);
  }

  cancel(principal: Principal, taskId: string): Promise<PublicTask> {
    return this.queries.cancel(principal.tenantId, taskId);
  }

  list(principal: Principal, query: ListTasksQuery): Promise<PublicTask[]> {
    return this.queries.list(principal.tenantId, query);
  }

  wait(principal: Principal, taskId: string, timeoutMs: number): Promise<PublicTask> {
    return this.queries.waitFor(principal.tenantId, taskId, timeoutMs, false);
  }
}
