/** HTTP adapter for the fleet: agents, overview, performance report (fleet:read or admin). No logic here. */
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { FleetReportRequestSchema, ListAgentsRequestSchema } from '@sb/contracts';
import { contract } from '@sb/messaging';
import type { z } from 'zod';
import { RequireScope } from '../auth/auth.guard';
import { FleetService } from './fleet.service';
import { ReadLimited } from '../limits/read-limit.interceptor';

@Controller('/v1')
@ReadLimited()
export class FleetHttpController {
  constructor(@Inject(FleetService) private readonly fleet: FleetService) {}

  /** `?status=up|down|left` */
  @Get('/agents')
  @RequireScope('fleet:read', 'admin')
  agents(@Query(contract(ListAgentsRequestSchema)) query: z.output<typeof ListAgentsRequestSchema>) {
    return this.fleet.agents(query);
  }

  @Get('/fleet/overview')
  @RequireScope('fleet:read', 'admin')
  overview() {
    return this.fleet.overview();
  }

  /** `?hours=1..168` (default 1) */
  @Get('/fleet/report')
  @RequireScope('fleet:read', 'admin')
  report(@Query(contract(FleetReportRequestSchema)) query: z.output<typeof FleetReportRequestSchema>) {
    return this.fleet.report(query);
  }
}
