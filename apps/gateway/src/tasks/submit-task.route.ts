/**
 * `POST /v1/tasks`, the task round trip's way in over HTTP, as a plain Fastify route instead of a
 * Nest controller method (issue 13, #3). Nest's per-request pipeline (an execution context, five
 * parameter factories, the guard and interceptor consumers and an rxjs pipeline per request) cost
 * the gateway about a sixth of its CPU per task on this path; this route makes the same checks, in
 * the same order, with the same parts:
 *
 * 1. the request's span (SpanNames.Submit), continuing the caller's `traceparent`;
 * 2. inside it, the AuthGuard's check (`tasks:submit`; the pre-authentication limit first), so a
 *    bad credential wins over a bad body;
 * 3. the body against the contract's schema (REQUEST.INVALID naming every bad field);
 * 4. TasksService.submit, with RateLimit-* headers set on the reply, refusals included.
 *
 * A refusal or failure is thrown to the app's error handler, which is Nest's global
 * HttpErrorFilter: the same structured replies as every other route. Body parsing, the reply
 * headers and the request metrics are the Fastify instance's, shared with every route.
 */
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Headers, type Scope, SpanNames, SubmitTaskRequestSchema } from '@sb/contracts';
import { validate } from '@sb/messaging';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthGuard } from '../auth/auth.guard';
import { PreAuthLimiter } from '../auth/pre-auth-limiter';
import { httpHeader as header, httpRequestInfo } from '../auth/request-context';
import { inSpan, RequestSpans } from '../auth/request-span';
import { rateLimitHeaders } from './submit-limits';
import { TasksService } from './tasks.service';

export const SUBMIT_PATH = '/v1/tasks';
const SUBMIT_SCOPES: [Scope] = ['tasks:submit'];

@Injectable()
export class SubmitTaskRoute implements OnModuleInit {
  constructor(
    @Inject(HttpAdapterHost) private readonly host: HttpAdapterHost,
    @Inject(AuthGuard) private readonly auth: AuthGuard,
    @Inject(PreAuthLimiter) private readonly preAuth: PreAuthLimiter,
    @Inject(RequestSpans) private readonly spans: RequestSpans,
    @Inject(TasksService) private readonly tasks: TasksService,
  ) {}

  onModuleInit(): void {
    // No HTTP adapter: a bus-only test module.
    this.host.httpAdapter?.getInstance<FastifyInstance>().post(SUBMIT_PATH, (req, reply) => this.submit(req, reply));
  }

  /** 202 with `{taskId, status: "queued"}`; 200 with the finished record when `wait` is true. */
  private async submit(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const { span, traceparent } = this.spans.start(SpanNames.Submit, 'http', header(req, Headers.TraceParent));
    try {
      return await inSpan(span, async () => {
        const principal = await this.auth.authenticate(header(req, Headers.Authorization), httpRequestInfo(req), this.preAuth.httpSourceOf(req), SUBMIT_SCOPES);
        const body = validate(SubmitTaskRequestSchema, req.body);
        const out = await this.tasks.submit(body, principal, {
          idempotencyKey: header(req, Headers.IdempotencyKey),
          traceparent: header(req, Headers.TraceParent),
          transport: 'http',
          spanTraceparent: traceparent,
          // Set before the error handler sends a refusal, so they go on it too.
          onRateLimit: (info) => {
            for (const [k, v] of Object.entries(rateLimitHeaders(info))) void reply.header(k, v);
          },
        });
        void reply.status('capability' in out ? 200 : 202);
        return out;
      });
    } finally {
      span.end();
    }
  }
}
