/**
 * The one path every task request takes, whichever transport brought it: validate with the
 * contract schema, authenticate, admit, then the handler. Adapters call this and nothing else.
 */
import {
  ListTasksQuerySchema,
  modelAllowed,
  ModelNotAllowedError,
  type Principal,
  type PublicTask,
  type SubmitReply,
  SpanAttributes,
  SpanNames,
  SubmitTaskRequestSchema,
  TaskIdRequestSchema,
  ValidationError,
  WaitQuerySchema,
} from '@sb/contracts';
import { childTraceparent, validate } from '@sb/messaging';
import { activeSpan, type ServiceTracer } from '@sb/observability';
import type { Authenticator } from '../auth/authenticator';
import type { Admission } from './admission';
import type { RateLimitInfo, SubmitLimits } from './submit-limits';
import type { SubmitTaskHandler } from './submit-task.handler';
import type { TaskQueries } from './task-queries';

export interface RequestMeta {
  authorization?: string;
  idempotencyKey?: string;
  traceparent?: string;
  /** Called with the submission's rate-limit state (allowed or not), for RateLimit-* headers. */
  onRateLimit?: (info: RateLimitInfo) => void;
  transport?: 'http' | 'nats';
}

const MAX_IDEMPOTENCY_KEY = 255;

export class TasksService {
  constructor(
    private readonly auth: Authenticator,
    private readonly admission: Admission,
    private readonly submitHandler: SubmitTaskHandler,
    private readonly queries: TaskQueries,
    private readonly limits: SubmitLimits,
    private readonly tracer?: ServiceTracer,
  ) {}

  /** One span per submission: over NATS a child of the served request, over HTTP of the caller's `traceparent` (or a new trace). */
  async submit(body: unknown, meta: RequestMeta): Promise<SubmitReply | PublicTask> {
    if (!this.tracer) return this.submitTraced(body, meta, undefined);
    // Over NATS with a traceparent the bus already serves it in a span; otherwise this is the trace's first span.
    const kind = activeSpan() ? 'internal' : 'server';
    return this.tracer.inSpan(SpanNames.Submit, { kind, parent: meta.traceparent, attributes: { [SpanAttributes.Transport]: meta.transport ?? 'nats' } }, (span) =>
      this.submitTraced(body, meta, this.tracer!.traceparentOf(span)),
    );
  }

  private async submitTraced(body: unknown, meta: RequestMeta, spanTraceparent: string | undefined): Promise<SubmitReply | PublicTask> {
    const principal = await this.auth.authenticate(meta.authorization, 'tasks:submit');
    const req = validate(SubmitTaskRequestSchema, body);
    const idempotencyKey = meta.idempotencyKey?.trim() || undefined;
    if (idempotencyKey && idempotencyKey.length > MAX_IDEMPOTENCY_KEY) {
      throw new ValidationError(`Idempotency-Key: at most ${MAX_IDEMPOTENCY_KEY} characters`);
    }
    // The queued task (and its record) carry the submit span, so the run continues this trace.
    const traceparent = spanTraceparent ?? childTraceparent(meta.traceparent);
    const policy = await this.admission.admit(principal.tenantId);
    const model = req.metadata.model;
    if (model !== undefined && (typeof model !== 'string' || !modelAllowed(policy.limits, model))) {
      throw new ModelNotAllowedError(`The ${policy.plan} plan of this tenant does not allow the model ${JSON.stringify(model)}`, { details: { allowed: policy.limits.models } });
    }
    await this.limits.admitSubmission(policy, principal.keyId, meta.onRateLimit, meta.transport);
    return this.submitHandler.handle(req, { tenantId: principal.tenantId, idempotencyKey, traceparent, maxConcurrent: policy.limits.maxConcurrent });
  }

  async get(body: unknown, meta: RequestMeta): Promise<PublicTask> {
    const p = await this.reader(meta);
    return this.queries.get(p.tenantId, validate(TaskIdRequestSchema, body).taskId);
  }

  async cancel(body: unknown, meta: RequestMeta): Promise<PublicTask> {
    const p = await this.auth.authenticate(meta.authorization, 'tasks:submit');
    return this.queries.cancel(p.tenantId, validate(TaskIdRequestSchema, body).taskId);
  }

  async list(query: unknown, meta: RequestMeta): Promise<PublicTask[]> {
    const p = await this.reader(meta);
    return this.queries.list(p.tenantId, validate(ListTasksQuerySchema, query));
  }

  async wait(taskId: unknown, query: unknown, meta: RequestMeta): Promise<PublicTask> {
    const p = await this.reader(meta);
    const { timeoutMs } = validate(WaitQuerySchema, query);
    return this.queries.waitFor(p.tenantId, validate(TaskIdRequestSchema, { taskId }).taskId, timeoutMs, false);
  }

  /** Reading a task needs tasks:read, or tasks:submit (a submitter may follow its own tasks). */
  private reader(meta: RequestMeta): Promise<Principal> {
    return this.auth.authenticate(meta.authorization, 'tasks:read', 'tasks:submit');
  }
}
