import type { Provider } from '@nestjs/common';
import { NatsClient } from '@sb/messaging';
import { TaskInfrastructure } from '@sb/tasks';
import { GatewayAuthenticator } from '../auth/authenticator.provider';
import { SpanReader } from './span-reader';
import { TaskTraceHandler } from './task-trace.handler';

export const traceProviders: Provider[] = [
  {
    provide: TaskTraceHandler,
    inject: [GatewayAuthenticator, TaskInfrastructure, NatsClient],
    useFactory: (auth: GatewayAuthenticator, infra: TaskInfrastructure, c: NatsClient) =>
      new TaskTraceHandler(auth, infra.store, new SpanReader(() => c.js, () => c.jsm, c.names)),
  },
];
