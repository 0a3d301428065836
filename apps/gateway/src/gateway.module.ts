import { NatsCredentialsHttpController } from './nats-credentials/nats-credentials.http';
import { NatsAccountCheck } from './auth/nats-account-check';
import { type DynamicModule, Module } from '@nestjs/common';
import { Bus, coreImports } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import { RedisModule, redisConnectionOf } from '@sb/redis';
import { TasksModule } from '@sb/tasks';
import { AdminHttpController } from './admin/admin.http';
import { ALERT_CONTROLLERS } from './alerts/alerts.http';
import { AlertsService } from './alerts/alerts.service';
import { AdminService } from './admin/admin.service';
import { AuthEventsNatsController } from './auth/auth-events.nats';
import { AuthGuard } from './auth/auth.guard';
import { GatewayAuthenticator } from './auth/authenticator.provider';
import { PreAuthLimiter } from './auth/pre-auth-limiter';
import { HttpRequestContext } from './auth/request-context';
import { RequestSpanInterceptor, RequestSpans } from './auth/request-span';
import type { GatewayConfig } from './config';
import { consoleControllers, consoleProviders } from './console/console.providers';
import { DeadLettersHttpController } from './dead-letters/dead-letters.http';
import { DeadLettersService } from './dead-letters/dead-letters.service';
import { FleetHttpController } from './fleet/fleet.http';
import { FleetService } from './fleet/fleet.service';
import { OpenApiController } from './openapi/openapi.http';
import { TaskEventsHttpController } from './task-events/task-events.http';
import { SubmitTaskRoute } from './tasks/submit-task.route';
import { TasksHttpController } from './tasks/tasks.http';
import { TasksNatsController } from './tasks/tasks.nats';
import { IntakeGuard } from './tasks/intake-guard';
import { TasksService } from './tasks/tasks.service';
import { taskProviders } from './tasks/tasks.providers';
import { TenantsHttpController } from './tenants/tenants.http';
import { TaskTraceHttpController } from './traces/task-trace.http';
import { traceProviders } from './traces/traces.providers';
import { TenantsService } from './tenants/tenants.service';
import { NotificationChannelsHttpController } from './notification-channels/notification-channels.http';
import { NotificationChannelsService } from './notification-channels/notification-channels.service';
import { IncidentsHttpController } from './incidents/incidents.http';
import { IncidentsService } from './incidents/incidents.service';
import { dispatchControllers, dispatchProviders } from './dispatch/dispatch.providers';
import { limitProviders } from './limits/limits.providers';

export function gatewayModule(config: GatewayConfig, logger: AppLogger): DynamicModule {
  return {
    module: GatewayModule,
    imports: [
      ...coreImports('gateway', config, logger),
      TasksModule.forRoot(),
      RedisModule.forRoot({ ...redisConnectionOf(config), keyPrefix: config.SB_PREFIX, service: 'gateway' }),
    ],
    controllers: [
      ...ALERT_CONTROLLERS,
      DeadLettersHttpController,
      FleetHttpController,
      ...consoleControllers,
      TaskEventsHttpController,
      TasksHttpController,
      TaskTraceHttpController,
      AdminHttpController,
      NatsCredentialsHttpController,
      OpenApiController,
      TenantsHttpController,
      IncidentsHttpController,
      NotificationChannelsHttpController,
      TasksNatsController,
      AuthEventsNatsController,
      ...dispatchControllers,
    ],
    providers: [
      GatewayAuthenticator,
      AuthGuard,
      RequestSpans,
      NatsAccountCheck,
      PreAuthLimiter,
      RequestSpanInterceptor,
      {
        provide: DeadLettersService,
        inject: [Bus, TasksService, IntakeGuard],
        useFactory: (b: Bus, tasks: TasksService, guard: IntakeGuard) => new DeadLettersService(b, config.MAX_INPUT_BYTES, tasks, guard),
      },
      HttpRequestContext,
      SubmitTaskRoute,
      ...taskProviders,
      ...traceProviders,
      ...dispatchProviders,
      ...limitProviders,
      ...consoleProviders,
      { provide: AdminService, inject: [GatewayAuthenticator, Bus], useFactory: (a: GatewayAuthenticator, b: Bus) => new AdminService(a, b) },
      { provide: TenantsService, inject: [Bus], useFactory: (b: Bus) => new TenantsService(b) },
      { provide: AlertsService, inject: [Bus], useFactory: (b: Bus) => new AlertsService(b) },
      { provide: FleetService, inject: [Bus], useFactory: (b: Bus) => new FleetService(b) },
      { provide: NotificationChannelsService, inject: [Bus], useFactory: (b: Bus) => new NotificationChannelsService(b) },
      { provide: IncidentsService, inject: [Bus], useFactory: (b: Bus) => new IncidentsService(b) },
    ],
  };
}

@Module({})
export class GatewayModule {}
