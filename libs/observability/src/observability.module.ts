import { type DynamicModule, Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import type { AppLogger } from './logger';
import { ServiceMetrics } from './metrics';
import { ReadinessRegistry } from './readiness';
import { APP_CONFIG, LOGGER } from './tokens';

export interface ObservabilityOptions {
  service: string;
  logger: AppLogger;
  config: unknown;
}

/** Logger, metrics registry, readiness registry, the app's config, and the health/metrics routes. */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(opts: ObservabilityOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [
        { provide: LOGGER, useValue: opts.logger },
        { provide: APP_CONFIG, useValue: opts.config },
        { provide: ServiceMetrics, useValue: new ServiceMetrics(opts.service) },
        ReadinessRegistry,
      ],
      exports: [LOGGER, APP_CONFIG, ServiceMetrics, ReadinessRegistry],
    };
  }
}
