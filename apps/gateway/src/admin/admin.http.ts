/** HTTP adapter for tenants and API keys. */
import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { AdminService } from './admin.service';

@Controller('/v1')
export class AdminHttpController {
  constructor(@Inject(AdminService) private readonly admin: AdminService) {}

  @Post('/tenants')
  @HttpCode(201)
  createTenant(@Headers('authorization') auth: string | undefined, @Body() body: unknown) {
    return this.admin.createTenant(auth, body);
  }

  @Get('/tenants')
  listTenants(@Headers('authorization') auth: string | undefined) {
    return this.admin.listTenants(auth);
  }

  @Get('/tenants/:id')
  getTenant(@Headers('authorization') auth: string | undefined, @Param('id') id: string) {
    return this.admin.getTenant(auth, id);
  }

  @Post('/keys')
  @HttpCode(201)
  createKey(@Headers('authorization') auth: string | undefined, @Body() body: unknown) {
    return this.admin.createKey(auth, body);
  }

  @Get('/keys')
  listKeys(@Headers('authorization') auth: string | undefined, @Query() query: unknown) {
    return this.admin.listKeys(auth, query);
  }

  @Delete('/keys/:id')
  revokeKey(@Headers('authorization') auth: string | undefined, @Param('id') id: string) {
    return this.admin.revokeKey(auth, id);
  }
}
