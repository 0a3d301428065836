/**
 * The contract's endpoint objects as Nest message patterns. `@MessagePattern(Endpoints.authorize)`
 * hands Nest the endpoint object itself; the transport gives each one a stable key of its own
 * (Nest would otherwise serialise the object, schema and all) and keeps the object, so it can
 * subscribe to the endpoint's subject under the service's prefix.
 */
import type { AnyEndpoint, ConsumerEndpoint, Endpoint, EventEndpoint, Names, Subscriber } from '@sb/contracts';
import type { z } from 'zod';

const keys = new WeakMap<object, string>();
let next = 0;

export function isEndpoint(p: unknown): p is AnyEndpoint {
  if (typeof p !== 'object' || p === null) return false;
  const e = p as Partial<Record<string, unknown>>;
  return (e.kind === 'event' || e.kind === 'consumer' || 'request' in e) && (typeof e.subject === 'function' || typeof e.stream === 'function');
}

/** The key Nest files the endpoint's handler under: the same object always gets the same key. */
export function endpointKey(e: AnyEndpoint): string {
  let k = keys.get(e);
  if (!k) {
    k = `sb-endpoint#${++next}`;
    keys.set(e, k);
  }
  return k;
}

export type RequestEndpoint = Endpoint<z.ZodType, unknown>;
export const isEvent = (e: AnyEndpoint): e is EventEndpoint => (e as EventEndpoint).kind === 'event';
export const isConsumer = (e: AnyEndpoint): e is ConsumerEndpoint => (e as ConsumerEndpoint).kind === 'consumer';

/** How an endpoint reads in logs and metrics: its subject, or `<stream>/<durable>`. */
export function describe(e: AnyEndpoint, n: Names, self: Subscriber): string {
  if (isConsumer(e)) return `${e.stream(n)}/${e.durable(n)}`;
  return e.subject(n, self);
}

/** Per-handler options, given as `@MessagePattern(endpoint, extras)`. */
export interface HandlerExtras {
  /** Queue group for a request endpoint; the service's own by default (replicas share the load). */
  queue?: string;
  /** Largest request body accepted (1 MiB by default). */
  maxPayloadBytes?: number;
  /** The handler must answer within this many ms or the caller gets a 504-style timeout error. */
  timeoutMs?: number;
  /**
   * The handler's own span (e.g. `task.submit`), a child of the served message's span: guards,
   * pipes and the handler run inside it, so what they call is traced under it.
   */
  span?: string;
}
