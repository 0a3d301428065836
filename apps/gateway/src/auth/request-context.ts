/**
 * Which transport and route a request came in on, for security events. HTTP requests set it in
 * a Fastify hook before their handler (HttpRequestContext); a request without one came over NATS
 * (the task subjects).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

export interface RequestInfo {
  transport: 'http' | 'nats';
  route?: string;
  /** Who is asking, as far as the gateway can tell before authentication (request-source.ts); set by the AuthGuard. */
  source?: string;
}

const storage = new AsyncLocalStorage<RequestInfo>();

export function currentRequest(): RequestInfo {
  return storage.getStore() ?? { transport: 'nats' };
}

export function runWithRequest<T>(info: RequestInfo, fn: () => T): T {
  return storage.run(info, fn);
}

export interface RouteRequest {
  method?: string;
  routeOptions?: { url?: string };
  url?: string;
}

export interface HeadersCarrier {
  headers: Record<string, string | string[] | undefined>;
}

/** An HTTP request header's (first) value; `name` in any case. */
export function httpHeader(req: HeadersCarrier, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** An HTTP request's transport and route (its pattern, e.g. `GET /v1/tasks/:id`), for security events. */
export function httpRequestInfo(req: RouteRequest): RequestInfo {
  return { transport: 'http', route: `${req.method ?? ''} ${req.routeOptions?.url ?? (req.url ?? '').split('?')[0]}`.slice(0, 256) };
}

/**
 * Every HTTP request's handler (guards, pipes, the method) runs with its transport and route
 * known, set in a Fastify `preHandler` hook: HTTP only, and without a Nest interceptor, which
 * would put an Observable pipeline around every handler, the bus's included.
 */
@Injectable()
export class HttpRequestContext implements OnModuleInit {
  constructor(@Inject(HttpAdapterHost) private readonly host: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.host.httpAdapter?.getInstance<{ addHook(name: 'preHandler', hook: (req: RouteRequest, reply: unknown, done: () => void) => void): void }>();
    fastify?.addHook('preHandler', (req, _reply, done) => runWithRequest(httpRequestInfo(req), done));
  }
}
