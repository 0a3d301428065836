import { type DynamicModule, Module } from '@nestjs/common';
import { NatsClient } from '@sb/messaging';
import { type TaskInfraOptions, TaskInfrastructure } from './task-infrastructure';

@Module({})
export class TasksModule {
  static forRoot(opts: TaskInfraOptions): DynamicModule {
    return {
      module: TasksModule,
      providers: [
        {
          provide: TaskInfrastructure,
          inject: [NatsClient],
          useFactory: async (client: NatsClient) => {
            const infra = new TaskInfrastructure(client, opts);
            await infra.open();
            return infra;
          },
        },
      ],
      exports: [TaskInfrastructure],
    };
  }
}

/** TasksModule options from the shared task config variables. */
export function taskInfraOptions(c: { TASK_RECORD_TTL_S: number; IDEMPOTENCY_TTL_S: number; JETSTREAM_REPLICAS: number }): TaskInfraOptions {
  return { recordTtlMs: c.TASK_RECORD_TTL_S * 1000, idempotencyTtlMs: c.IDEMPOTENCY_TTL_S * 1000, replicas: c.JETSTREAM_REPLICAS };
}
