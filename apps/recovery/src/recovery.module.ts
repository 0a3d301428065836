import { type DynamicModule, Module } from '@nestjs/common';
import { coreImports } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import type { RecoveryConfig } from './config';

/** Boots, connects, and serves health and metrics; its features arrive with their own issues. */
export function recoveryModule(config: RecoveryConfig, logger: AppLogger): DynamicModule {
  return { module: RecoveryModule, imports: coreImports('recovery', config, logger) };
}

@Module({})
export class RecoveryModule {}
