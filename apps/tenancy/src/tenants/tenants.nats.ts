/** NATS adapter for tenancy. No logic here. */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Endpoints, type TenancyTenant, TenancyEndpoints } from '@sb/contracts';
import { Bus } from '@sb/messaging';
import { SlotsHandler } from '../slots/slots.handler';
import { UsageConsumer } from '../usage/usage.consumer';
import { UsageReportHandler } from '../usage/usage-report.handler';
import { TenantsHandler } from './tenants.handler';

@Injectable()
export class TenantsNatsAdapter implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(TenantsHandler) private readonly tenants: TenantsHandler,
    @Inject(UsageReportHandler) private readonly usage: UsageReportHandler,
    @Inject(UsageConsumer) private readonly usageConsumer: UsageConsumer,
    @Inject(SlotsHandler) private readonly slots: SlotsHandler,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.tenants.ensureSystemTenant();
  }

  async onApplicationBootstrap(): Promise<void> {
    this.bus.serve(Endpoints.admit, (req) => this.tenants.admit(req));
    this.bus.serve(TenancyEndpoints.policy, (req) => this.tenants.policy(req.tenantId));
    this.bus.serve(Endpoints.createTenant, async (req) => this.changed(await this.tenants.create(req)));
    // Announced before the reply: every gateway drops its cached policy for this tenant at once.
    this.bus.serve(TenancyEndpoints.patchTenant, async (req) => this.changed(await this.tenants.patch(req)));
    this.bus.serve(Endpoints.getTenant, (req) => this.tenants.get(req.id));
    this.bus.serve(Endpoints.listTenants, () => this.tenants.list());
    this.bus.serve(TenancyEndpoints.usage, (req) => this.usage.report(req));
    this.bus.serve(TenancyEndpoints.slots, (req) => this.slots.handle(req));
    await this.usageConsumer.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.usageConsumer.stop();
  }

  private changed(t: TenancyTenant): TenancyTenant {
    this.bus.publish(this.bus.names.internal.tenantChanged, { id: t.id, status: t.status });
    return t;
  }
}
