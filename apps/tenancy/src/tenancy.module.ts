import { type DynamicModule, Module } from '@nestjs/common';
import { coreImports, Topology } from '@sb/messaging';
import { type AppLogger, LOGGER } from '@sb/observability';
import { ConcurrencySlots, RedisClient, RedisModule, redisConnectionOf, UsageStore } from '@sb/redis';
import type { TenancyConfig } from './config';
import { SlotsHandler } from './slots/slots.handler';
import { TenancySetup } from './tenancy.setup';
import { KvTenantStore } from './tenants/tenant-store';
import { TenantsHandler } from './tenants/tenants.handler';
import { TenantsNatsController } from './tenants/tenants.nats';
import { RecordUsageHandler } from './usage/record-usage.handler';
import { UsageNatsController } from './usage/usage.nats';
import { UsageReportHandler } from './usage/usage-report.handler';

export function tenancyModule(config: TenancyConfig, logger: AppLogger): DynamicModule {
  return {
    module: TenancyModule,
    imports: [...coreImports('tenancy', config, logger), RedisModule.forRoot({ ...redisConnectionOf(config), keyPrefix: config.SB_PREFIX, service: 'tenancy' })],
    controllers: [TenantsNatsController, UsageNatsController],
    providers: [
      {
        provide: KvTenantStore,
        inject: [Topology],
        useFactory: (t: Topology) => new KvTenantStore(t.bucket('tenants')),
      },
      { provide: TenantsHandler, inject: [KvTenantStore], useFactory: (store: KvTenantStore) => new TenantsHandler(store) },
      { provide: SlotsHandler, inject: [KvTenantStore, RedisClient], useFactory: (store: KvTenantStore, r: RedisClient) => new SlotsHandler(store, new ConcurrencySlots(r)) },
      { provide: UsageStore, inject: [RedisClient], useFactory: (r: RedisClient) => new UsageStore(r) },
      { provide: UsageReportHandler, inject: [TenantsHandler, UsageStore], useFactory: (t: TenantsHandler, u: UsageStore) => new UsageReportHandler(t, u) },
      { provide: RecordUsageHandler, inject: [UsageStore, LOGGER], useFactory: (u: UsageStore, l: AppLogger) => new RecordUsageHandler(u, l) },
      {
        provide: TenancySetup,
        inject: [TenantsHandler],
        useFactory: (t: TenantsHandler) => new TenancySetup(t),
      },
    ],
  };
}

@Module({})
export class TenancyModule {}
