import { type DynamicModule, Module } from '@nestjs/common';
import { coreImports } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import type { AlertingConfig } from './config';

/** Boots, connects, and serves health and metrics; its features arrive with their own issues. */
export function alertingModule(config: AlertingConfig, logger: AppLogger): DynamicModule {
  return { module: AlertingModule, imports: coreImports('alerting', config, logger) };
}

@Module({})
export class AlertingModule {}
