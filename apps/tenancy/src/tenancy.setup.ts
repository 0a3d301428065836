/**
 * What must exist before tenancy serves anything: the platform's own tenant. (The usage
 * consumer is declared in libs/contracts topology.ts and ensured with the rest at boot.)
 */
import type { OnModuleInit } from '@nestjs/common';
import type { TenantsHandler } from './tenants/tenants.handler';

export class TenancySetup implements OnModuleInit {
  constructor(private readonly tenants: TenantsHandler) {}

  async onModuleInit(): Promise<void> {
    await this.tenants.ensureSystemTenant();
  }
}
