import { type DynamicModule, Module } from '@nestjs/common';
import { Bus, NatsClient, Topology } from '@sb/messaging';
import { TaskAnnouncer } from './task-announcer';
import { TaskInfrastructure } from './task-infrastructure';
import { TaskLifecycle } from './task-lifecycle';
import { TaskQueue } from './task-queue';

@Module({})
export class TasksModule {
  static forRoot(): DynamicModule {
    return {
      module: TasksModule,
      providers: [
        { provide: TaskInfrastructure, inject: [Topology, NatsClient], useFactory: (t: Topology, c: NatsClient) => new TaskInfrastructure(t, c) },
        { provide: TaskQueue, inject: [NatsClient], useFactory: (c: NatsClient) => new TaskQueue(c) },
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

