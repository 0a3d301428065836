/** HTTP adapter for changing a tenant and reading its usage. No logic here. */
import { Body, Controller, Get, Headers, Inject, Param, Patch, Query } from '@nestjs/common';
import { TenantsService } from './tenants.service';

@Controller('/v1/tenants')
export class TenantsHttpController {
  constructor(@Inject(TenantsService) private readonly tenants: TenantsService) {}

  @Patch('/:id')
  patch(@Headers('authorization') auth: string | undefined, @Param('id') id: string, @Body() body: unknown) {
    return this.tenants.patch(auth, id, body);
  }

  /** `?days=1..31` (default 7): usage by UTC day and capability, and today's quota counters. */
  @Get('/:id/usage')
  usage(@Headers('authorization') auth: string | undefined, @Param('id') id: string, @Query() query: unknown) {
    return this.tenants.usage(auth, id, query);
  }
}
