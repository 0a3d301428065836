/**
 * NATS adapter for the public task subjects, and the events the task path listens to. Guard,
 * pipes, TasksService, reply out. No logic here. Authentication comes before validation (a bad
 * credential wins over a bad body); RateLimit-* go on the reply, on success and on refusal.
 */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Endpoints, Events, Headers, type ParsedReqOf, type Principal, SpanNames } from '@sb/contracts';
import { contract, type SbContext } from '@sb/messaging';
import { RequireScope } from '../auth/auth.guard';
import { SpanTraceparent } from '../auth/request-span';
import { CurrentPrincipal } from '../auth/request-state';
import { ReadLimited } from '../limits/read-limit.interceptor';
import { Admission } from './admission';
import { CompletionInbox } from './completion-inbox';
import { type RateLimitInfo, rateLimitHeaders } from './submit-limits';
import { type RequestMeta, TasksService } from './tasks.service';

type Req<E> = ParsedReqOf<E>;

function natsMeta(ctx: SbContext): RequestMeta {
  return { idempotencyKey: ctx.header(Headers.IdempotencyKey), traceparent: ctx.header(Headers.TraceParent), transport: 'nats' };
}

@Controller()
export class TasksNatsController {
  constructor(
    @Inject(TasksService) private readonly tasks: TasksService,
    @Inject(Admission) private readonly admission: Admission,
    @Inject(CompletionInbox) private readonly inbox: CompletionInbox,
  ) {}

  @MessagePattern(Endpoints.submitTask, { span: SpanNames.Submit })
  @RequireScope('tasks:submit')
  submit(
    @Payload(contract(Endpoints.submitTask)) req: Req<typeof Endpoints.submitTask>,
    @CurrentPrincipal() principal: Principal,
    @SpanTraceparent() spanTraceparent: string | undefined,
    @Ctx() ctx: SbContext,
  ) {
    const onRateLimit = (info: RateLimitInfo) => {
      for (const [k, v] of Object.entries(rateLimitHeaders(info))) ctx.setReplyHeader(k, v);
    };
    return this.tasks.submit(req, principal, { ...natsMeta(ctx), spanTraceparent, onRateLimit });
  }

  /** Reading a task needs tasks:read, or tasks:submit (a submitter may follow its own tasks). */
  @MessagePattern(Endpoints.getTask)
  @RequireScope('tasks:read', 'tasks:submit')
  @ReadLimited()
  get(@Payload(contract(Endpoints.getTask)) req: Req<typeof Endpoints.getTask>, @CurrentPrincipal() principal: Principal) {
    return this.tasks.get(principal, req.taskId);
  }

  /** A page of the tenant's tasks, as GET /v1/tasks; the `Sb-Next-Cursor` reply header names the next. */
  @MessagePattern(Endpoints.listTasks)
  @RequireScope('tasks:read', 'tasks:submit')
  @ReadLimited()
  async list(@Payload(contract(Endpoints.listTasks)) req: Req<typeof Endpoints.listTasks>, @CurrentPrincipal() principal: Principal, @Ctx() ctx: SbContext) {
    const page = await this.tasks.list(principal, req);
    if (page.next !== undefined) ctx.setReplyHeader(Headers.NextCursor, page.next);
    return page.tasks;
  }

  @MessagePattern(Endpoints.cancelTask)
  @RequireScope('tasks:submit')
  cancel(@Payload(contract(Endpoints.cancelTask)) req: Req<typeof Endpoints.cancelTask>, @CurrentPrincipal() principal: Principal) {
    return this.tasks.cancel(principal, req.taskId);
  }

  /** Tenancy changed a tenant: its cached policy goes at once, so a suspension does not wait out the TTL. */
  @EventPattern(Events.tenantChanged)
  tenantChanged(@Payload() notice: unknown) {
    this.admission.tenantChanged(notice);
  }

  /** A worker finished a task a submit here waits on (sent to this process only). */
  @EventPattern(Events.taskCompletion)
  taskCompleted(@Payload() task: unknown) {
    this.inbox.completed(task);
  }

  /** A task ended elsewhere (cancel, timeout): a submit waiting on it here reads the store. */
  @EventPattern(Events.taskEnded)
  taskEnded(@Payload() notice: unknown) {
    this.inbox.ended(notice);
  }
}
