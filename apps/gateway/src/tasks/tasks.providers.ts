import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy, type Provider } from '@nestjs/common';
import { Bus, NatsClient } from '@sb/messaging';
import { APP_CONFIG, type AppLogger, LOGGER } from '@sb/observability';
import { RateLimiter } from '@sb/redis';
import { TaskInfrastructure } from '@sb/tasks';
import { GatewayAuthenticator } from '../auth/authenticator.provider';
import type { GatewayConfig } from '../config';
import { CapabilityCatalog } from './capability-catalog';
import { SubmitLimits } from './submit-limits';
import { SubmitTaskHandler } from './submit-task.handler';
import { TaskQueries } from './task-queries';
import { TasksService } from './tasks.service';

@Injectable()
export class CatalogLifecycle implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(@Inject(CapabilityCatalog) private readonly catalog: CapabilityCatalog) {}
  onApplicationBootstrap() {
    return this.catalog.start();
  }
  onModuleDestroy() {
    this.catalog.stop();
  }
}

export const taskProviders: Provider[] = [
  {
    provide: SubmitLimits,
    inject: [RateLimiter, APP_CONFIG, LOGGER],
    useFactory: (r: RateLimiter, cfg: GatewayConfig, logger: AppLogger) => new SubmitLimits(r, { rate: cfg.TENANT_SUBMIT_RATE, periodMs: 1000, burst: cfg.TENANT_SUBMIT_BURST }, logger),
  },
  { provide: CapabilityCatalog, inject: [TaskInfrastructure], useFactory: (infra: TaskInfrastructure) => new CapabilityCatalog(infra.capabilities) },
  CatalogLifecycle,
  {
    provide: TaskQueries,
    inject: [NatsClient, Bus, TaskInfrastructure],
    useFactory: (c: NatsClient, b: Bus, i: TaskInfrastructure) => new TaskQueries(c, b, i),
  },
  {
    provide: SubmitTaskHandler,
    inject: [NatsClient, Bus, TaskInfrastructure, CapabilityCatalog, TaskQueries, APP_CONFIG],
    useFactory: (c: NatsClient, b: Bus, i: TaskInfrastructure, cat: CapabilityCatalog, q: TaskQueries, cfg: GatewayConfig) =>
      new SubmitTaskHandler(c, b, i, cat, q, cfg.MAX_INPUT_BYTES),
  },
  {
    provide: TasksService,
    inject: [GatewayAuthenticator, Bus, SubmitTaskHandler, TaskQueries, SubmitLimits],
    useFactory: (a: GatewayAuthenticator, b: Bus, s: SubmitTaskHandler, q: TaskQueries, l: SubmitLimits) => new TasksService(a, b, s, q, l),
  },
];
