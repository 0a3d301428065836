/** NATS adapter for tenancy. No logic here. */
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { Endpoints } from '@sb/contracts';
import { Bus } from '@sb/messaging';
import { TenantsHandler } from './tenants.handler';

@Injectable()
export class TenantsNatsAdapter implements OnModuleInit, OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(TenantsHandler) private readonly tenants: TenantsHandler,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.tenants.ensureSystemTenant();
  }

  onApplicationBootstrap(): void {
    this.bus.serve(Endpoints.admit, (req) => this.tenants.admit(req));
    this.bus.serve(Endpoints.createTenant, async (req) => {
      const t = await this.tenants.create(req);
      this.bus.publish(this.bus.names.internal.tenantChanged, { id: t.id, status: t.status });
      return t;
    });
    this.bus.serve(Endpoints.getTenant, (req) => this.tenants.get(req.id));
    this.bus.serve(Endpoints.listTenants, () => this.tenants.list());
  }
}
