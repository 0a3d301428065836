/**
 * Which transport and route a request came in on, for security events. HTTP requests set it in
 * an interceptor (and the AuthGuard, which runs before interceptors, for its own check); a
 * request without one came over NATS (the task subjects).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';

export interface RequestInfo {
  transport: 'http' | 'nats';
  route?: string;
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

/** An HTTP request's transport and route (its pattern, e.g. `GET /v1/tasks/:id`), for security events. */
export function httpRequestInfo(req: RouteRequest): RequestInfo {
  return { transport: 'http', route: `${req.method ?? ''} ${req.routeOptions?.url ?? (req.url ?? '').split('?')[0]}`.slice(0, 256) };
}

@Injectable()
export class RequestContextInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    return runWithRequest(httpRequestInfo(ctx.switchToHttp().getRequest<RouteRequest>()), () => next.handle());
  }
}
