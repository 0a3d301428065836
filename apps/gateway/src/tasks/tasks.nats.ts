/** NATS adapter for the public task subjects. Headers in, TasksService, reply out. */
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { type MsgHdrs, headers as natsHeaders } from '@nats-io/nats-core';
import { Endpoints, Headers } from '@sb/contracts';
import { Bus } from '@sb/messaging';
import { rateLimitHeaders } from './submit-limits';
import { type RequestMeta, TasksService } from './tasks.service';

function meta(h: MsgHdrs | undefined): RequestMeta {
  return {
    authorization: h?.get(Headers.Authorization) || undefined,
    idempotencyKey: h?.get(Headers.IdempotencyKey) || undefined,
    traceparent: h?.get(Headers.TraceParent) || undefined,
    transport: 'nats',
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
    this.bus.serveRaw(Endpoints.submitTask, (body, ctx) =>
      this.tasks.submit(body, {
        ...meta(ctx.headers),
        // The same RateLimit-* data as over HTTP, as reply headers (on success and on refusal).
        onRateLimit: (info) => {
          const h = (ctx.replyHeaders ??= natsHeaders());
          for (const [k, v] of Object.entries(rateLimitHeaders(info))) h.set(k, v);
        },
      }),
    );
    this.bus.serveRaw(Endpoints.getTask, (body, ctx) => this.tasks.get(body, meta(ctx.headers)));
    this.bus.serveRaw(Endpoints.cancelTask, (body, ctx) => this.tasks.cancel(body, meta(ctx.headers)));
  }
}
