import { type DynamicModule, Module } from '@nestjs/common';
import { type AppLogger, ObservabilityModule } from '@sb/observability';
import type { WorkerConfig } from './config';
import { AgentHost } from './host/agent-host.service';

/** An agent process: its agents on the SDK, plus health and metrics over HTTP. No connection to the control plane's internals. */
export function agentWorkerModule(config: WorkerConfig, logger: AppLogger): DynamicModule {
  return {
    module: AgentWorkerModule,
    imports: [ObservabilityModule.forRoot({ service: 'agent-worker', logger, config })],
    providers: [AgentHost],
  };
}

@Module({})
export class AgentWorkerModule {}
