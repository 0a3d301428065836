import { type DynamicModule, Module } from '@nestjs/common';
import { Bus, NatsClient } from '@sb/messaging';
import { TaskAnnouncer } from './task-announcer';
import { type TaskInfraOptions, TaskInfrastructure } from './task-infrastructure';
import { TaskLifecycle } from './task-lifecycle';
import { TaskQueue } from './task-queue';

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
        { provide: TaskQueue, inject: [NatsClient], useFactory: (c: NatsClient) => new TaskQueue(c.js, c.nc, c.names) },
        { provide: TaskAnnouncer, inject: [Bus], useFactory: (bus: Bus) => new TaskAnnouncer(bus) },
        {
          provide: TaskLifecycle,
          inject: [TaskInfrastructure, TaskQueue, TaskAnnouncer],
          useFactory: (infra: TaskInfrastructure, queue: TaskQueue, announcer: TaskAnnouncer) => new TaskLifecycle(infra.store, queue, announcer),
        },
      ],
      exports: [TaskInfrastructure, TaskQueue, TaskAnnouncer, TaskLifecycle],
    };
  }
}

/** TasksModule options from the shared task config variables. */
export function taskInfraOptions(c: { TASK_RECORD_TTL_S: number; IDEMPOTENCY_TTL_S: number; JETSTREAM_REPLICAS: number }): TaskInfraOptions {
  return { recordTtlMs: c.TASK_RECORD_TTL_S * 1000, idempotencyTtlMs: c.IDEMPOTENCY_TTL_S * 1000, replicas: c.JETSTREAM_REPLICAS };
}
