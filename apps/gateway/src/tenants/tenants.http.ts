/** HTTP adapter for changing a tenant and reading its usage (admin, or any key of that tenant). No logic here. */
import { Body, Controller, Get, Inject, Param, Patch, Query } from '@nestjs/common';
import type { Principal } from '@sb/contracts';
import { ANY_KEY, RequireScope } from '../auth/auth.guard';
import { CurrentPrincipal } from '../auth/request-state';
import { TenantsService } from './tenants.service';
import { ReadLimited } from '../limits/read-limit.interceptor';

@Controller('/v1/tenants')
@ReadLimited()
export class TenantsHttpController {
  constructor(@Inject(TenantsService) private readonly tenants: TenantsService) {}

  @Patch('/:id')
  @RequireScope(...ANY_KEY)
  patch(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.tenants.patch(principal, id, body);
  }

  /** `?days=1..31` (default 7): usage by UTC day and capability, and today's quota counters. */
  @Get('/:id/usage')
  @RequireScope(...ANY_KEY)
  usage(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: unknown) {
    return this.tenants.usage(principal, id, query);
  }
}
