import { type DynamicModule, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { Bus, coreImports } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import { RedisModule } from '@sb/redis';
import { TasksModule, taskInfraOptions } from '@sb/tasks';
import { AdminHttpController } from './admin/admin.http';
import { AdminService } from './admin/admin.service';
import { GatewayAuthenticator } from './auth/authenticator.provider';
import { RequestContextInterceptor } from './auth/request-context';
import type { GatewayConfig } from './config';
import { ConsoleHttpController } from './console/console.http';
import { OpenApiController } from './openapi/openapi.http';
import { TaskEventsHttpController } from './task-events/task-events.http';
import { TasksHttpController } from './tasks/tasks.http';
import { TasksNatsAdapter } from './tasks/tasks.nats';
import { taskProviders } from './tasks/tasks.providers';
import { TenantsHttpController } from './tenants/tenants.http';
import { TenantsService } from './tenants/tenants.service';

export function gatewayModule(config: GatewayConfig, logger: AppLogger): DynamicModule {
  return {
    module: GatewayModule,
    imports: [
      ...coreImports('gateway', config, logger),
      TasksModule.forRoot(taskInfraOptions(config)),
      RedisModule.forRoot({ url: config.REDIS_URL, keyPrefix: config.SB_PREFIX, service: 'gateway' }),
    ],
    controllers: [ConsoleHttpController, TaskEventsHttpController, TasksHttpController, AdminHttpController, OpenApiController, TenantsHttpController],
    providers: [
      GatewayAuthenticator,
      { provide: APP_INTERCEPTOR, useClass: RequestContextInterceptor },
      ...taskProviders,
      TasksNatsAdapter,
      { provide: AdminService, inject: [GatewayAuthenticator, Bus], useFactory: (a: GatewayAuthenticator, b: Bus) => new AdminService(a, b) },
      { provide: TenantsService, inject: [GatewayAuthenticator, Bus], useFactory: (a: GatewayAuthenticator, b: Bus) => new TenantsService(a, b) },
    ],
  };
}

@Module({})
export class GatewayModule {}
