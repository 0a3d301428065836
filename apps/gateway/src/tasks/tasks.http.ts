/** HTTP adapter for tasks. Guard, pipes, TasksService, JSON out. No logic here. */
import { Body, Controller, Delete, Get, Inject, Param, type PipeTransform, Post, Query, Req, Res } from '@nestjs/common';
import {
  Headers,
  ListTasksQuerySchema,
  type ListTasksQuery,
  type Principal,
  SpanNames,
  type SubmitTaskRequest,
  SubmitTaskRequestSchema,
  TaskIdRequestSchema,
  WaitQuerySchema,
} from '@sb/contracts';
import { contract, validate } from '@sb/messaging';
import { RequireScope } from '../auth/auth.guard';
import { RequestSpan, SpanTraceparent } from '../auth/request-span';
import { CurrentPrincipal } from '../auth/request-state';
import { ReadLimited } from '../limits/read-limit.interceptor';
import { type RateLimitInfo, rateLimitHeaders } from './submit-limits';
import { type RequestMeta, TasksService } from './tasks.service';

interface HttpRequest {
  headers: Record<string, string | string[] | undefined>;
}

function header(req: HttpRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function httpMeta(req: HttpRequest): RequestMeta {
  return { idempotencyKey: header(req, Headers.IdempotencyKey), traceparent: header(req, Headers.TraceParent), transport: 'http' };
}

/** `:id` checked as the NATS body's `taskId` is (same schema, same message). */
const taskIdParam: PipeTransform<unknown, string> = { transform: (id) => validate(TaskIdRequestSchema, { taskId: id }).taskId };

interface HttpReply {
  status(code: number): unknown;
  header(name: string, value: string): unknown;
}

@Controller('/v1/tasks')
@ReadLimited()
export class TasksHttpController {
  constructor(@Inject(TasksService) private readonly tasks: TasksService) {}

  /** 202 with `{taskId, status: "queued"}`; 200 with the finished record when `wait` is true. */
  @Post()
  @RequireScope('tasks:submit')
  @RequestSpan(SpanNames.Submit)
  async submit(
    @Body(contract(SubmitTaskRequestSchema)) body: SubmitTaskRequest,
    @CurrentPrincipal() principal: Principal,
    @SpanTraceparent() spanTraceparent: string | undefined,
    @Req() req: HttpRequest,
    @Res({ passthrough: true }) res: HttpReply,
  ) {
    // RateLimit-* go on refusals as well: set before the error filter sends the reply.
    const onRateLimit = (info: RateLimitInfo) => {
      for (const [k, v] of Object.entries(rateLimitHeaders(info))) res.header(k, v);
    };
    const out = await this.tasks.submit(body, principal, { ...httpMeta(req), spanTraceparent, onRateLimit });
    res.status('capability' in out ? 200 : 202);
    return out;
  }

  /** Reading tasks needs tasks:read, or tasks:submit (a submitter may follow its own tasks). A page; `Sb-Next-Cursor` names the next. */
  @Get()
  @RequireScope('tasks:read', 'tasks:submit')
  async list(@Query(contract(ListTasksQuerySchema)) query: ListTasksQuery, @CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) res: HttpReply) {
    const page = await this.tasks.list(principal, query);
    if (page.next !== undefined) res.header(Headers.NextCursor, page.next);
    return page.tasks;
  }

  @Get('/:id')
  @RequireScope('tasks:read', 'tasks:submit')
  get(@Param('id', taskIdParam) taskId: string, @CurrentPrincipal() principal: Principal) {
    return this.tasks.get(principal, taskId);
  }

  /** The query is checked before the id. */
  @Get('/:id/wait')
  @RequireScope('tasks:read', 'tasks:submit')
  wait(@Query(contract(WaitQuerySchema)) query: { timeoutMs: number }, @Param('id', taskIdParam) taskId: string, @CurrentPrincipal() principal: Principal) {
    return this.tasks.wait(principal, taskId, query.timeoutMs);
  }

  @Delete('/:id')
  @RequireScope('tasks:submit')
  cancel(@Param('id', taskIdParam) taskId: string, @CurrentPrincipal() principal: Principal) {
    return this.tasks.cancel(principal, taskId);
  }
}
