/**
 * What the gateway learns about a request before its handler runs (who is calling, the span it
 * is served in), kept beside the request: the HTTP request object, or the bus message's
 * SbContext (a WeakMap, so nothing is added to either and it goes when they go). The AuthGuard
 * and the request-span interceptor write it; handlers read it with parameter decorators.
 */
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Span } from '@opentelemetry/api';
import type { Principal } from '@sb/contracts';

export interface RequestState {
  principal?: Principal;
  span?: Span;
  /** The traceparent that continues `span` (what the queued task carries). */
  spanTraceparent?: string;
}

const states = new WeakMap<object, RequestState>();

/** The object a request's state hangs on: the HTTP request, or the NATS message's SbContext. */
function carrierOf(ctx: ExecutionContext): object {
  return ctx.getType() === 'rpc' ? ctx.switchToRpc().getContext<object>() : ctx.switchToHttp().getRequest<object>();
}

export function requestState(ctx: ExecutionContext): RequestState {
  const carrier = carrierOf(ctx);
  let state = states.get(carrier);
  if (!state) states.set(carrier, (state = {}));
  return state;
}

/** The authenticated caller, over HTTP and NATS alike; only on handlers declared with `@RequireScope`. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = requestState(ctx).principal;
  if (!principal) throw new Error('@CurrentPrincipal() on a handler without @RequireScope(...)');
  return principal;
});
