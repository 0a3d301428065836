import type { Provider } from '@nestjs/common';
import { NatsClient } from '@sb/messaging';
import { TaskInfrastructure } from '@sb/tasks';
import { SpanReader } from './span-reader';
import { TaskTraceHandler } from './task-trace.handler';

export const traceProviders: Provider[] = [
  {
    provide: TaskTraceHandler,
    inject: [TaskInfrastructure, NatsClient],
    useFactory: (infra: TaskInfrastructure, c: NatsClient) => new TaskTraceHandler(infra.store, new SpanReader(() => c.js, () => c.jsm, c.names)),
  },
];
