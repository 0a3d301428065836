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
        { provide: TaskInfrastructure, inject: [Topology], useFactory: (t: Topology) => new TaskInfrastructure(t) },
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

