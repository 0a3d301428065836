import { type DynamicModule, Module } from '@nestjs/common';
import { coreImports } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import { TasksModule, taskInfraOptions } from '@sb/tasks';
import { AgentRegistry } from './agents/agent-registry';
import type { WorkerConfig } from './config';
import { WorkerService } from './runtime/worker.service';
import { AgentTelemetry } from './telemetry/agent-telemetry.service';
import { HeldTasks } from './telemetry/held-tasks';

export function agentWorkerModule(config: WorkerConfig, logger: AppLogger): DynamicModule {
  return {
    module: AgentWorkerModule,
    imports: [...coreImports('agent-worker', config, logger), TasksModule.forRoot(taskInfraOptions(config))],
    providers: [{ provide: AgentRegistry, useFactory: () => AgentRegistry.fromConfig(config.WORKER_AGENTS, { testAgents: config.WORKER_TEST_AGENTS }) }, WorkerService, { provide: HeldTasks, useFactory: () => new HeldTasks() }, AgentTelemetry],
  };
}

@Module({})
export class AgentWorkerModule {}
