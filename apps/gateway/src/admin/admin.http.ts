/** HTTP adapter for tenants, API keys, access tokens, the JWKS and the security report. */
import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { GatewayAuthenticator } from '../auth/authenticator.provider';
import { AdminService } from './admin.service';

@Controller()
export class AdminHttpController {
  constructor(
    @Inject(AdminService) private readonly admin: AdminService,
    @Inject(GatewayAuthenticator) private readonly authenticator: GatewayAuthenticator,
  ) {}

  @Post('/v1/tenants')
  @HttpCode(201)
  createTenant(@Headers('authorization') auth: string | undefined, @Body() body: unknown) {
    return this.admin.createTenant(auth, body);
  }

  @Get('/v1/tenants')
  listTenants(@Headers('authorization') auth: string | undefined) {
    return this.admin.listTenants(auth);
  }

  @Get('/v1/tenants/:id')
  getTenant(@Headers('authorization') auth: string | undefined, @Param('id') id: string) {
    return this.admin.getTenant(auth, id);
  }

  @Post('/v1/keys')
  @HttpCode(201)
  createKey(@Headers('authorization') auth: string | undefined, @Body() body: unknown) {
    return this.admin.createKey(auth, body);
  }

  @Get('/v1/keys')
  listKeys(@Headers('authorization') auth: string | undefined, @Query() query: unknown) {
    return this.admin.listKeys(auth, query);
  }

  @Delete('/v1/keys/:id')
  revokeKey(@Headers('authorization') auth: string | undefined, @Param('id') id: string) {
    return this.admin.revokeKey(auth, id);
  }

  @Post('/v1/keys/:id/rotate')
  @HttpCode(201)
  rotateKey(@Headers('authorization') auth: string | undefined, @Param('id') id: string, @Body() body: unknown) {
    return this.admin.rotateKey(auth, id, body);
  }

  @Post('/v1/tokens')
  @HttpCode(200)
  issueToken(@Headers('authorization') auth: string | undefined, @Body() body: unknown) {
    return this.admin.issueToken(auth, body);
  }

  @Get('/v1/security/report')
  securityReport(@Headers('authorization') auth: string | undefined, @Query() query: unknown) {
    return this.admin.securityReport(auth, query);
  }

  /** Public: the keys access tokens are signed with (no auth). */
  @Get('/.well-known/jwks.json')
  jwks() {
    return this.authenticator.jwks();
  }
}
