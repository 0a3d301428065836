import { type DynamicModule, Module } from '@nestjs/common';
import { Bus, NatsClient, Topology } from '@sb/messaging';
import { OutcomeTally } from './outcome-tally';
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
        { provide: OutcomeTally, inject: [Bus], useFactory: (bus: Bus) => new OutcomeTally(bus) },
        { provide: TaskAnnouncer, inject: [Bus, OutcomeTally], useFactory: (bus: Bus, tally: OutcomeTally) => new TaskAnnouncer(bus, undefined, tally) },
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

