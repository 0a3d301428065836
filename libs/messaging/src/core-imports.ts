import type { DynamicModule } from '@nestjs/common';
import { type AppLogger, ObservabilityModule } from '@sb/observability';
import { topologySettings } from './jetstream-setup';
import { MessagingModule } from './messaging.module';

export interface CoreConfig {
  NATS_URL: string;
  NATS_CREDS?: string;
  SB_PREFIX: string;
  REQUEST_TIMEOUT_MS: number;
  SHUTDOWN_GRACE_MS?: number;
  /** This process's id on subjects addressed to one instance (random when absent; a worker uses its WORKER_ID). */
  INSTANCE_ID?: string;
}

/** What every service's root module imports: logging/metrics/health, and its NATS connection. */
export function coreImports(service: string, config: CoreConfig, logger: AppLogger): DynamicModule[] {
  const topology = topologySettings(config as unknown as Record<string, unknown>);
  return [
    ObservabilityModule.forRoot({ service, logger, config }),
    MessagingModule.forRoot({ url: config.NATS_URL, prefix: config.SB_PREFIX, service, requestTimeoutMs: config.REQUEST_TIMEOUT_MS, drainGraceMs: config.SHUTDOWN_GRACE_MS, instanceId: config.INSTANCE_ID, topology, credsFile: config.NATS_CREDS }),
  ];
}
