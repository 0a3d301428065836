/**
 * HTTP adapter for tasks. Guard, pipes, TasksService, JSON out. No logic here. Submitting
 * (`POST /v1/tasks`) is a plain Fastify route of its own: submit-task.route.ts.
 */
import { Controller, Delete, Get, Inject, Param, type PipeTransform, Query, Res } from '@nestjs/common';
import { Headers, ListTasksQuerySchema, type ListTasksQuery, type Principal, TaskIdRequestSchema, WaitQuerySchema } from '@sb/contracts';
import { contract, validate } from '@sb/messaging';
import { RequireScope } from '../auth/auth.guard';
import { CurrentPrincipal } from '../auth/request-state';
import { ReadLimited } from '../limits/read-limit.interceptor';
import { TasksService } from './tasks.service';

/** `:id` checked as the NATS body's `taskId` is (same schema, same message). */
const taskIdParam: PipeTransform<unknown, string> = { transform: (id) => validate(TaskIdRequestSchema, { taskId: id }).taskId };

interface HttpReply {
  header(name: string, value: string): unknown;
}

@Controller('/v1/tasks')
@ReadLimited()
export class TasksHttpController {
  constructor(@Inject(TasksService) private readonly tasks: TasksService) {}

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
