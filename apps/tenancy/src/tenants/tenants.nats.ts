/** NATS adapter: tenancy's request/reply endpoints, declared for the bus transport. No logic here. */
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Endpoints, type ParsedReqOf, type TenancyTenant, TenancyEndpoints } from '@sb/contracts';
import { Bus, contract } from '@sb/messaging';
import { SlotsHandler } from '../slots/slots.handler';
import { UsageReportHandler } from '../usage/usage-report.handler';
import { TenantsHandler } from './tenants.handler';

type Req<E> = ParsedReqOf<E>;

@Controller()
export class TenantsNatsController {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(TenantsHandler) private readonly tenants: TenantsHandler,
    @Inject(UsageReportHandler) private readonly usage: UsageReportHandler,
    @Inject(SlotsHandler) private readonly slots: SlotsHandler,
  ) {}

  @MessagePattern(Endpoints.admit)
  admit(@Payload(contract(Endpoints.admit)) req: Req<typeof Endpoints.admit>) {
    return this.tenants.admit(req);
  }

  @MessagePattern(TenancyEndpoints.policy)
  policy(@Payload(contract(TenancyEndpoints.policy)) req: Req<typeof TenancyEndpoints.policy>) {
    return this.tenants.policy(req.tenantId);
  }

  @MessagePattern(Endpoints.createTenant)
  async createTenant(@Payload(contract(Endpoints.createTenant)) req: Req<typeof Endpoints.createTenant>) {
    return this.changed(await this.tenants.create(req));
  }

  /** Announced before the reply: every gateway drops its cached policy for this tenant at once. */
  @MessagePattern(TenancyEndpoints.patchTenant)
  async patchTenant(@Payload(contract(TenancyEndpoints.patchTenant)) req: Req<typeof TenancyEndpoints.patchTenant>) {
    return this.changed(await this.tenants.patch(req));
  }

  @MessagePattern(Endpoints.getTenant)
  getTenant(@Payload(contract(Endpoints.getTenant)) req: Req<typeof Endpoints.getTenant>) {
    return this.tenants.get(req.id);
  }

  @MessagePattern(Endpoints.listTenants)
  listTenants(@Payload(contract(Endpoints.listTenants)) _req: Req<typeof Endpoints.listTenants>) {
    return this.tenants.list();
  }

  @MessagePattern(TenancyEndpoints.usage)
  usageReport(@Payload(contract(TenancyEndpoints.usage)) req: Req<typeof TenancyEndpoints.usage>) {
    return this.usage.report(req);
  }

  @MessagePattern(TenancyEndpoints.slots)
  slotsLease(@Payload(contract(TenancyEndpoints.slots)) req: Req<typeof TenancyEndpoints.slots>) {
    return this.slots.handle(req);
  }

  private changed(t: TenancyTenant): TenancyTenant {
    this.bus.publish(this.bus.names.internal.tenantChanged, { id: t.id, status: t.status });
    return t;
  }
}
