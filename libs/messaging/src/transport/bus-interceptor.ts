/**
 * Cross-cutting work around every NATS message the transport serves: metrics, tracing, error
 * mapping, time limits. Nest's own interceptors return an Observable per call; these await the
 * handler directly (the bus's hot path serves tens of thousands of messages a second), and run
 * in the order given, the first outermost.
 */
import type { HandlerExtras } from './patterns';
import type { SbContext } from './sb-context';

export type HandlerKind = 'request' | 'event' | 'consumer';

export interface BusCall {
  kind: HandlerKind;
  ctx: SbContext;
  /** What the handler declared with its pattern (`@MessagePattern(endpoint, extras)`). */
  extras: HandlerExtras;
}

export interface BusInterceptor {
  around(call: BusCall, next: () => Promise<unknown>): Promise<unknown>;
  /** Whether it has anything to do for this handler (asked once per handler, not per message). */
  appliesTo?(kind: HandlerKind, extras: HandlerExtras): boolean;
}

export const BUS_INTERCEPTORS = Symbol('BUS_INTERCEPTORS');

/** `interceptors` wrapped around `handler`, outermost first, as one function. */
export function chain(interceptors: readonly BusInterceptor[], call: BusCall, handler: () => Promise<unknown>): Promise<unknown> {
  let next = handler;
  for (let i = interceptors.length - 1; i >= 0; i--) {
    const inner = next;
    const it = interceptors[i];
    next = () => it.around(call, inner);
  }
  return next();
}
