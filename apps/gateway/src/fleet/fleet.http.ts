/** HTTP adapter for the fleet: agents, overview, performance report. No logic here. */
import { Controller, Get, Headers, Inject, Query } from '@nestjs/common';
import { FleetService } from './fleet.service';

@Controller('/v1')
export class FleetHttpController {
  constructor(@Inject(FleetService) private readonly fleet: FleetService) {}

  /** `?status=up|down|left` */
  @Get('/agents')
  agents(@Headers('authorization') auth: string | undefined, @Query() query: unknown) {
    return this.fleet.agents(auth, query);
  }

  @Get('/fleet/overview')
  overview(@Headers('authorization') auth: string | undefined) {
    return this.fleet.overview(auth);
  }

  /** `?hours=1..168` (default 1) */
  @Get('/fleet/report')
  report(@Headers('authorization') auth: string | undefined, @Query() query: unknown) {
    return this.fleet.report(auth, query);
  }
}
