/** HTTP adapter for incidents (fleet:read or admin). No logic here. */
import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { IncidentListRequestSchema } from '@sb/contracts';
import { contract } from '@sb/messaging';
import type { z } from 'zod';
import { RequireScope } from '../auth/auth.guard';
import { IncidentsService } from './incidents.service';
import { ReadLimited } from '../limits/read-limit.interceptor';

@Controller('/v1/incidents')
@ReadLimited()
export class IncidentsHttpController {
  constructor(@Inject(IncidentsService) private readonly incidents: IncidentsService) {}

  /** `?status=open|resolved&since=<ISO time>&limit=1..500` (default 50), newest first. */
  @Get()
  @RequireScope('fleet:read', 'admin')
  list(@Query(contract(IncidentListRequestSchema)) query: z.output<typeof IncidentListRequestSchema>) {
    return this.incidents.list(query);
  }

  @Get('/:id')
  @RequireScope('fleet:read', 'admin')
  get(@Param('id') id: string) {
    return this.incidents.get(id);
  }
}
