import { type DynamicModule, Module } from '@nestjs/common';
import { coreImports, NatsClient, openBucket } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import type { TenancyConfig } from './config';
import { KvTenantStore } from './tenants/tenant-store';
import { TenantsHandler } from './tenants/tenants.handler';
import { TenantsNatsAdapter } from './tenants/tenants.nats';

export function tenancyModule(config: TenancyConfig, logger: AppLogger): DynamicModule {
  return {
    module: TenancyModule,
    imports: coreImports('tenancy', config, logger),
    providers: [
      {
        provide: TenantsHandler,
        inject: [NatsClient],
        useFactory: async (client: NatsClient) =>
          new TenantsHandler(new KvTenantStore(await openBucket(client.kvm, client.names.buckets.tenants, { replicas: config.JETSTREAM_REPLICAS }))),
      },
      TenantsNatsAdapter,
    ],
  };
}

@Module({})
export class TenancyModule {}
