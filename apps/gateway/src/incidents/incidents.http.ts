/** HTTP adapter for incidents. No logic here. */
import { Controller, Get, Headers, Inject, Param, Query } from '@nestjs/common';
import { IncidentsService } from './incidents.service';

@Controller('/v1/incidents')
export class IncidentsHttpController {
  constructor(@Inject(IncidentsService) private readonly incidents: IncidentsService) {}

  /** `?status=open|resolved&since=<ISO time>&limit=1..500` (default 50), newest first. */
  @Get()
  list(@Headers('authorization') auth: string | undefined, @Query() query: unknown) {
    return this.incidents.list(auth, query);
  }

  @Get('/:id')
  get(@Headers('authorization') auth: string | undefined, @Param('id') id: string) {
    return this.incidents.get(auth, id);
  }
}
