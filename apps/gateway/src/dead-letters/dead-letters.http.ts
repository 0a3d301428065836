/**
 * HTTP adapter for dead letters. An admin acts on every tenant's; a tenant's key on its own:
 * tasks:read (or tasks:submit) to look, tasks:submit to act. No logic here.
 */
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ListDeadLettersQuerySchema, type Principal, PurgeDeadLettersQuerySchema } from '@sb/contracts';
import { contract } from '@sb/messaging';
import type { z } from 'zod';
import { RequireScope } from '../auth/auth.guard';
import { CurrentPrincipal } from '../auth/request-state';
import { type RateLimitInfo, rateLimitHeaders } from '../tasks/submit-limits';
import { DeadLettersService } from './dead-letters.service';

@Controller('/v1/dead-letters')
export class DeadLettersHttpController {
  constructor(@Inject(DeadLettersService) private readonly deadLetters: DeadLettersService) {}

  /** `?capability=&tenant=&limit=1..1000&since=<ISO time>`, newest first, with poison fingerprints. */
  @Get()
  @RequireScope('admin', 'tasks:read', 'tasks:submit')
  list(@CurrentPrincipal() principal: Principal, @Query(contract(ListDeadLettersQuerySchema)) query: z.output<typeof ListDeadLettersQuerySchema>) {
    return this.deadLetters.list(principal, query);
  }

  /** `?capability=`: remove every dead letter (of one capability) the caller may see. */
  @Delete()
  @RequireScope('admin', 'tasks:submit')
  purge(@CurrentPrincipal() principal: Principal, @Query(contract(PurgeDeadLettersQuerySchema)) query: z.output<typeof PurgeDeadLettersQuerySchema>) {
    return this.deadLetters.purge(principal, query);
  }

  @Get('/:id')
  @RequireScope('admin', 'tasks:read', 'tasks:submit')
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.deadLetters.get(principal, id);
  }

  /** Body optional: `{"input"?: any, "priority"?: "low|normal|high"}`. Admitted like a submit: RateLimit-* as on POST /v1/tasks. */
  @Post('/:id/redrive')
  @HttpCode(202)
  @RequireScope('admin', 'tasks:submit')
  redrive(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: { header(name: string, value: string): unknown },
  ) {
    // Set before the error filter sends a refusal, as on submit.
    const onRateLimit = (info: RateLimitInfo) => {
      for (const [k, v] of Object.entries(rateLimitHeaders(info))) res.header(k, v);
    };
    return this.deadLetters.redrive(principal, id, body, { onRateLimit, transport: 'http' });
  }

  @Delete('/:id')
  @RequireScope('admin', 'tasks:submit')
  delete(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.deadLetters.delete(principal, id);
  }
}
