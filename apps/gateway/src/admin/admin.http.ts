/** HTTP adapter for tenants, API keys, access tokens, the JWKS and the security report. No logic here. */
import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import {
  type CreateKeyRequest,
  CreateKeyRequestSchema,
  type CreateTenantRequest,
  CreateTenantRequestSchema,
  ListKeysRequestSchema,
  type Principal,
  SecurityReportQuerySchema,
} from '@sb/contracts';
import { contract } from '@sb/messaging';
import type { z } from 'zod';
import { ANY_KEY, RequireScope } from '../auth/auth.guard';
import { GatewayAuthenticator } from '../auth/authenticator.provider';
import { CurrentPrincipal } from '../auth/request-state';
import { AdminService } from './admin.service';
import { ReadLimited } from '../limits/read-limit.interceptor';

@Controller()
@ReadLimited()
export class AdminHttpController {
  constructor(
    @Inject(AdminService) private readonly admin: AdminService,
    @Inject(GatewayAuthenticator) private readonly authenticator: GatewayAuthenticator,
  ) {}

  @Post('/v1/tenants')
  @HttpCode(201)
  @RequireScope('admin')
  createTenant(@Body(contract(CreateTenantRequestSchema)) body: CreateTenantRequest) {
    return this.admin.createTenant(body);
  }

  @Get('/v1/tenants')
  @RequireScope('admin')
  listTenants() {
    return this.admin.listTenants();
  }

  /** A tenant's own key may read it (any permission); an admin reads every tenant. */
  @Get('/v1/tenants/:id')
  @RequireScope(...ANY_KEY)
  getTenant(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.admin.getTenant(principal, id);
  }

  /** Keys: the platform admin's for every tenant, a `tenant:admin` key's for its own (auth decides, given the caller). */
  @Post('/v1/keys')
  @HttpCode(201)
  @RequireScope('admin', 'tenant:admin')
  createKey(@CurrentPrincipal() principal: Principal, @Body(contract(CreateKeyRequestSchema)) body: CreateKeyRequest) {
    return this.admin.createKey(principal, body);
  }

  @Get('/v1/keys')
  @RequireScope('admin', 'tenant:admin')
  listKeys(@CurrentPrincipal() principal: Principal, @Query(contract(ListKeysRequestSchema)) query: z.output<typeof ListKeysRequestSchema>) {
    return this.admin.listKeys(principal, query);
  }

  @Delete('/v1/keys/:id')
  @RequireScope('admin', 'tenant:admin')
  revokeKey(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.admin.revokeKey(principal, id);
  }

  @Post('/v1/keys/:id/rotate')
  @HttpCode(201)
  @RequireScope('admin', 'tenant:admin')
  rotateKey(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.admin.rotateKey(principal, id, body);
  }

  /** Key → access token: any key may ask, for itself (the credential itself is exchanged). */
  @Post('/v1/tokens')
  @HttpCode(200)
  @RequireScope(...ANY_KEY)
  issueToken(@Headers('authorization') auth: string | undefined, @Body() body: unknown) {
    return this.admin.issueToken(auth, body);
  }

  @Get('/v1/security/report')
  @RequireScope('admin')
  securityReport(@Query(contract(SecurityReportQuerySchema)) query: z.output<typeof SecurityReportQuerySchema>) {
    return this.admin.securityReport(query);
  }

  /** Public: the keys access tokens are signed with (no auth). */
  @Get('/.well-known/jwks.json')
  jwks() {
    return this.authenticator.jwks();
  }
}
