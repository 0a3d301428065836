/**
 * What must exist before tenancy serves anything: the platform's own tenant, and the stream and
 * durable consumer of usage accounting (the transport starts consuming at bootstrap, after this).
 */
import type { OnModuleInit } from '@nestjs/common';
import type { NatsClient } from '@sb/messaging';
import type { TenantsHandler } from './tenants/tenants.handler';
import { ensureUsageConsumer } from './usage/usage-consumer.setup';

export class TenancySetup implements OnModuleInit {
  constructor(
    private readonly tenants: TenantsHandler,
    private readonly client: NatsClient,
    private readonly replicas: number,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.tenants.ensureSystemTenant();
    await ensureUsageConsumer(this.client, this.replicas);
  }
}
