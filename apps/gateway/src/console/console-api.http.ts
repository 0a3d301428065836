/**
 * The console's own data routes, behind the AuthGuard and the per-key read limit like every
 * `/v1` route: who the key is and what it may see (any key), the charts' series (fleet:read),
 * and one task in detail (tasks:read or tasks:submit; `?tenantId=` for platform admins).
 * Everything else the console shows comes from the public API.
 */
import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { type Principal, TaskIdRequestSchema, TenantScopeQuerySchema } from '@sb/contracts';
import { contract, validate } from '@sb/messaging';
import { TaskInfrastructure } from '@sb/tasks';
import { z } from 'zod';
import { ANY_KEY, RequireScope } from '../auth/auth.guard';
import { CurrentPrincipal } from '../auth/request-state';
import { tenantInScope } from '../auth/tenant-scope';
import { ReadLimited } from '../limits/read-limit.interceptor';
import { TaskQueries } from '../tasks/task-queries';
import { consoleSession } from './console-session';
import { ConsoleSeries } from './series/console-series';
import { readTaskDetail } from './task-detail';

/** `?minutes=` of history (the ring keeps an hour). */
export const SeriesQuerySchema = z.object({ minutes: z.coerce.number().int().min(1).max(60).default(30) }).strict();

@Controller('/v1/console')
@ReadLimited()
export class ConsoleApiHttpController {
  constructor(
    @Inject(ConsoleSeries) private readonly series: ConsoleSeries,
    @Inject(TaskQueries) private readonly queries: TaskQueries,
    @Inject(TaskInfrastructure) private readonly infra: TaskInfrastructure,
  ) {}

  @Get('/session')
  @RequireScope(...ANY_KEY)
  session(@CurrentPrincipal() principal: Principal) {
    return consoleSession(principal);
  }

  @Get('/series')
  @RequireScope('fleet:read', 'admin')
  seriesOf(@Query(contract(SeriesQuerySchema)) q: z.output<typeof SeriesQuerySchema>) {
    return this.series.read(q.minutes);
  }

  /** The task with its input, every attempt's error and its timeline (task-detail.ts). */
  @Get('/tasks/:id')
  @RequireScope('tasks:read', 'tasks:submit')
  task(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query(contract(TenantScopeQuerySchema)) q: z.output<typeof TenantScopeQuerySchema>) {
    const { taskId } = validate(TaskIdRequestSchema, { taskId: id });
    const tenantId = tenantInScope(principal, q.tenantId);
    return readTaskDetail({ publicTask: (t, i) => this.queries.get(t, i), record: (t, i) => this.infra.store.get(t, i) }, tenantId, taskId);
  }
}
