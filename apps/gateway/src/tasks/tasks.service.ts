/**
 * The one path every task request takes, whichever transport brought it. The adapters have
 * already authenticated the caller (AuthGuard, `@RequireScope`) and validated the body with the
 * contract schema (`contract(...)` pipes); here: admit, limit, then the handler or the query.
 * A request that waits for its task (submit with `wait`, GET /wait) holds one of the key's wait
 * slots until it answers, taken before anything else so a refusal changes nothing.
 */
import {
  type ListTasksQuery,
  modelAllowed,
  ModelNotAllowedError,
  type Principal,
  type PublicTask,
  type SubmitReply,
  type SubmitTaskRequest,
  type TenantPolicy,
  ValidationError,
} from '@sb/contracts';
import { childTraceparent } from '@sb/messaging';
import { tenantInScope } from '../auth/tenant-scope';
import type { KeySlots } from '../limits/key-slots';
import type { Admission } from './admission';
import type { RateLimitInfo, SubmitLimits } from './submit-limits';
import type { SubmitTaskHandler } from './submit-task.handler';
import type { TaskListPage, TaskQueries } from './task-queries';

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
    /** Requests waiting for a task, per key and in all (WAIT_MAX_PER_KEY, WAIT_MAX). */
    private readonly waits: KeySlots,
  ) {}

  /** Runs inside the submission's span (see RequestSpan): over NATS a child of the served request, over HTTP of the caller's `traceparent`. */
  async submit(req: SubmitTaskRequest, principal: Principal, meta: RequestMeta): Promise<SubmitReply | PublicTask> {
    const idempotencyKey = meta.idempotencyKey?.trim() || undefined;
    if (idempotencyKey && idempotencyKey.length > MAX_IDEMPOTENCY_KEY) {
      throw new ValidationError(`Idempotency-Key: at most ${MAX_IDEMPOTENCY_KEY} characters`);
    }
    const release = req.wait ? this.waits.acquire(principal.keyId) : undefined;
    try {
      return await this.admitAndSubmit(req, principal, meta, idempotencyKey);
    } finally {
      release?.();
    }
  }

  private async admitAndSubmit(req: SubmitTaskRequest, principal: Principal, meta: RequestMeta, idempotencyKey: string | undefined): Promise<SubmitReply | PublicTask> {
    // The queued task (and its record) carry the submit span, so the run continues this trace.
    const traceparent = meta.spanTraceparent ?? childTraceparent(meta.traceparent);
    const policy = await this.admit(principal, principal.tenantId, req.metadata, meta);
    return this.submitHandler.handle(req, { tenantId: principal.tenantId, idempotencyKey, traceparent, maxConcurrent: policy.limits.maxConcurrent });
  }

  /**
   * What every new run of a task passes, submitted or redriven from the dead letters: the
   * tenant's admission (active), its model access, then the key's and tenant's rate limits and
   * the tenant's quotas (which count it). Returns the tenant's policy (its running-task ceiling).
   */
  async admit(principal: Principal, tenantId: string, metadata: Record<string, unknown>, meta: Pick<RequestMeta, 'onRateLimit' | 'transport'>): Promise<TenantPolicy> {
    const policy = await this.admission.admit(tenantId);
    const model = metadata.model;
    if (model !== undefined && (typeof model !== 'string' || !modelAllowed(policy.limits, model))) {
      throw new ModelNotAllowedError(`The ${policy.plan} plan of this tenant does not allow the model ${JSON.stringify(model)}`, { details: { allowed: policy.limits.models } });
    }
    await this.limits.admitSubmission(policy, principal.keyId, meta.onRateLimit, meta.transport);
    return policy;
  }

  get(principal: Principal, taskId: string): Promise<PublicTask> {
    return this.queries.get(principal.tenantId, taskId);
  }

  cancel(principal: Principal, taskId: string): Promise<PublicTask> {
    return this.queries.cancel(principal.tenantId, taskId);
  }

  /** A platform admin may list another tenant's tasks (`tenantId`); anyone else only its own. */
  list(principal: Principal, query: ListTasksQuery): Promise<TaskListPage> {
    return this.queries.list(tenantInScope(principal, query.tenantId), query);
  }

  async wait(principal: Principal, taskId: string, timeoutMs: number): Promise<PublicTask> {
    const release = this.waits.acquire(principal.keyId);
    try {
      return await this.queries.waitFor(principal.tenantId, taskId, timeoutMs, false);
    } finally {
      release();
    }
  }
}
