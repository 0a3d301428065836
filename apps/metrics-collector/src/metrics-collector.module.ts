import { type DynamicModule, Module } from '@nestjs/common';
import { coreImports } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import type { MetricsCollectorConfig } from './config';

/** Boots, connects, and serves health and metrics; its features arrive with their own issues. */
export function metricsCollectorModule(config: MetricsCollectorConfig, logger: AppLogger): DynamicModule {
  return { module: MetricsCollectorModule, imports: coreImports('metrics-collector', config, logger) };
}

@Module({})
export class MetricsCollectorModule {}
