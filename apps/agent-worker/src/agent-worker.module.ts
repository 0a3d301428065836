import { type DynamicModule, Module } from '@nestjs/common';
import { coreImports } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import { TasksModule } from '@sb/tasks';
import { AgentRegistry } from './agents/agent-registry';
import type { WorkerConfig } from './config';
import { AbortRegistry } from './runtime/abort-registry';
import { TaskAbortNatsController } from './runtime/task-abort.nats';
import { WorkerService } from './runtime/worker.service';
import { AgentTelemetry } from './telemetry/agent-telemetry.service';
import { HeldTasks } from './telemetry/held-tasks';
import { ReregisterNatsController } from './telemetry/reregister.nats';

export function agentWorkerModule(config: WorkerConfig, logger: AppLogger): DynamicModule {
  return {
    module: AgentWorkerModule,
    imports: [...coreImports('agent-worker', { ...config, INSTANCE_ID: config.WORKER_ID }, logger), TasksModule.forRoot()],
    controllers: [TaskAbortNatsController, ReregisterNatsController],
    providers: [
      { provide: AgentRegistry, useFactory: () => AgentRegistry.fromConfig(config.WORKER_AGENTS, { testAgents: config.WORKER_TEST_AGENTS }) },
      { provide: AbortRegistry, useFactory: () => new AbortRegistry() },
      { provide: HeldTasks, useFactory: () => new HeldTasks() },
      WorkerService,
      AgentTelemetry,
    ],
  };
}

@Module({})
export class AgentWorkerModule {}
