/** HTTP adapter for a task's trace timeline. No logic here. */
import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { type Principal, TenantScopeQuerySchema } from '@sb/contracts';
import { contract } from '@sb/messaging';
import type { z } from 'zod';
import { RequireScope } from '../auth/auth.guard';
import { CurrentPrincipal } from '../auth/request-state';
import { TaskTraceHandler } from './task-trace.handler';
import { ReadLimited } from '../limits/read-limit.interceptor';

@Controller('/v1/tasks')
@ReadLimited()
export class TaskTraceHttpController {
  constructor(@Inject(TaskTraceHandler) private readonly handler: TaskTraceHandler) {}

  /** Spans by service and agent, queued vs running time, attempts, critical path and gaps. `?tenantId=`: platform admins only. */
  @Get('/:id/trace')
  @RequireScope('tasks:read', 'tasks:submit')
  trace(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query(contract(TenantScopeQuerySchema)) q: z.output<typeof TenantScopeQuerySchema>) {
    return this.handler.handle(principal, id, q.tenantId);
  }
}
