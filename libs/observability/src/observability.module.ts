import { type DynamicModule, Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { HealthController } from './health.controller';
import type { AppLogger } from './logger';
import { ServiceMetrics } from './metrics';
import { ReadinessRegistry } from './readiness';
import { APP_CONFIG, LOGGER } from './tokens';
import { ServiceTracer, tracingSettingsOf } from './tracing/service-tracer';

export interface ObservabilityOptions {
  service: string;
  logger: AppLogger;
  config: unknown;
}

/**
 * Logger, metrics registry, readiness registry, the app's config, and the health/metrics routes.
 * Nest's own logs go through nestjs-pino to the service's pino logger (same redaction); HTTP
 * requests get a request-scoped child logger, without a log line per request.
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(opts: ObservabilityOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [
        TerminusModule.forRoot({ logger: false }),
        LoggerModule.forRoot({ pinoHttp: { logger: opts.logger, autoLogging: false, quietReqLogger: true } }),
      ],
      controllers: [HealthController],
      providers: [
        { provide: LOGGER, useValue: opts.logger },
        { provide: APP_CONFIG, useValue: opts.config },
        { provide: ServiceMetrics, useValue: new ServiceMetrics(opts.service) },
        ReadinessRegistry,
        {
          provide: ServiceTracer,
          inject: [ServiceMetrics],
          useFactory: (metrics: ServiceMetrics) => {
            const failures = metrics.counter('sb_trace_export_failures_total', 'Span export batches that failed (spans dropped), by exporter', ['exporter']);
            return new ServiceTracer(opts.service, tracingSettingsOf(opts.config), opts.logger, (exporter) => failures.inc({ exporter }));
          },
        },
      ],
      exports: [LOGGER, APP_CONFIG, ServiceMetrics, ReadinessRegistry, ServiceTracer],
    };
  }
}
