/** NATS adapter for the public task subjects. Headers in, TasksService, reply out. */
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { MsgHdrs } from '@nats-io/nats-core';
import { Endpoints, Headers } from '@sb/contracts';
import { Bus } from '@sb/messaging';
import { type RequestMeta, TasksService } from './tasks.service';

function meta(h: MsgHdrs | undefined): RequestMeta {
  return {
    authorization: h?.get(Headers.Authorization) || undefined,
    idempotencyKey: h?.get(Headers.IdempotencyKey) || undefined,
    traceparent: h?.get(Headers.TraceParent) || undefined,
  };
}

@Injectable()
export class TasksNatsAdapter implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(TasksService) private readonly tasks: TasksService,
  ) {}

  onApplicationBootstrap(): void {
    // The service validates with the same schemas after authentication, so the adapter passes the raw body through.
    this.bus.serveRaw(Endpoints.submitTask, (body, ctx) => this.tasks.submit(body, meta(ctx.headers)));
    this.bus.serveRaw(Endpoints.getTask, (body, ctx) => this.tasks.get(body, meta(ctx.headers)));
    this.bus.serveRaw(Endpoints.cancelTask, (body, ctx) => this.tasks.cancel(body, meta(ctx.headers)));
  }
}
