/**
 * Typed request/reply over core NATS, by contract endpoint. `serve` validates with the
 * endpoint's schema, times and counts every request, and turns every failure into the
 * structured error reply; `request` turns an error reply back into the same SbError.
 */
import { type BeforeApplicationShutdown, Inject, Injectable, Optional } from '@nestjs/common';
import { headers as natsHeaders, type Msg, type MsgHdrs, type Subscription } from '@nats-io/nats-core';
import {
  type Endpoint,
  Headers,
  type ParsedReqOf,
  type ResOf,
  SpanAttributes,
  TimeoutError as SbTimeoutError,
  UnavailableError,
} from '@sb/contracts';
import { activeSpan, type AppLogger, LOGGER, markSpanError, ServiceMetrics, ServiceTracer } from '@sb/observability';
import type { z } from 'zod';
import { decode, encode, validate } from './codec';
import { NatsClient } from './nats-client';
import { RequestMux } from './request-mux';
import { asSbError, errorFromReply, errorReply } from './wire-errors';

export interface RequestContext {
  headers?: MsgHdrs;
  msg: Msg;
  subject: string;
  /** Headers a handler wants on its reply (success or error), e.g. RateLimit-*. */
  replyHeaders?: MsgHdrs;
}
export type Handler<E> = (req: ParsedReqOf<E>, ctx: RequestContext) => Promise<ResOf<E>>;
export type RawHandler<E> = (body: unknown, ctx: RequestContext) => Promise<ResOf<E>>;

export interface ServeOptions {
  /** Queue group; defaults to the service's own so replicas share the load. */
  queue?: string;
  maxPayloadBytes?: number;
  /** Subject override (e.g. a test's prefix is already in NatsClient.names). */
  subject?: string;
}

export interface CallOptions {
  headers?: MsgHdrs;
  timeoutMs?: number;
}

@Injectable()
export class Bus implements BeforeApplicationShutdown {
  private readonly subs: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private mux?: RequestMux;

  constructor(
    @Inject(NatsClient) private readonly client: NatsClient,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
    @Inject(LOGGER) private readonly logger: AppLogger,
    /** Spans for what this service serves, requests and publishes (absent in bare test setups). */
    @Optional() @Inject(ServiceTracer) readonly tracer?: ServiceTracer,
  ) {}

  get names() {
    return this.client.names;
  }

  serve<E extends Endpoint<z.ZodType, unknown>>(endpoint: E, handler: Handler<E>, opts: ServeOptions = {}): Subscription {
    return this.subscribe(endpoint, (body, ctx) => handler(validate(endpoint.request, body) as ParsedReqOf<E>, ctx), opts);
  }

  /**
   * Like `serve`, but the handler gets the decoded body unvalidated: for edges that must
   * authenticate before they validate (so a bad credential wins over a bad body).
   */
  serveRaw<E extends Endpoint<z.ZodType, unknown>>(endpoint: E, handler: RawHandler<E>, opts: ServeOptions = {}): Subscription {
    return this.subscribe(endpoint, handler, opts);
  }

  private subscribe<E extends Endpoint<z.ZodType, unknown>>(endpoint: E, handler: RawHandler<E>, opts: ServeOptions): Subscription {
    const subject = opts.subject ?? endpoint.subject(this.client.names);
    const queue = opts.queue ?? this.client.names.queueGroup(this.client.options.service);
    const maxBytes = opts.maxPayloadBytes ?? 1024 * 1024;
    const sub = this.client.nc.subscribe(subject, {
      queue,
      callback: (err, msg) => {
        if (err) {
          this.logger.error({ err, subject }, 'subscription error');
          return;
        }
        const p = this.dispatch(handler, msg, subject, maxBytes);
        this.inFlight.add(p);
        void p.finally(() => this.inFlight.delete(p));
      },
    });
    this.subs.push(sub);
    return sub;
  }

  private dispatch<E>(handler: RawHandler<E>, msg: Msg, subject: string, maxBytes: number): Promise<void> {
    const tracer = this.tracer;
    // The parent is what the message carries, never whatever context the socket callback ran in. A
    // request outside any trace is served without a span: internal calls would otherwise each start a
    // trace of one span (the public task submit starts its trace itself, in the gateway).
    const parent = msg.headers?.get(Headers.TraceParent) || undefined;
    if (!tracer || !parent) return this.serveOne(handler, msg, subject, maxBytes);
    return tracer.inSpan(subject, { kind: 'server', root: true, parent, attributes: { [SpanAttributes.Subject]: subject } }, () => this.serveOne(handler, msg, subject, maxBytes));
  }

  private async serveOne<E>(handler: RawHandler<E>, msg: Msg, subject: string, maxBytes: number) {
    const start = process.hrtime.bigint();
    let code = '';
    const ctx: RequestContext = { headers: msg.headers, msg, subject };
    try {
      const res = await handler(decode(msg.data, maxBytes), ctx);
      if (msg.reply) msg.respond(encode(res), ctx.replyHeaders ? { headers: ctx.replyHeaders } : undefined);
    } catch (e) {
      const { err, unexpected } = asSbError(e);
      markSpanError(activeSpan(), err);
      if (unexpected) this.logger.error({ err: e, subject }, err.status === 503 ? 'dependency failure' : 'handler failed');
      code = err.code;
      if (msg.reply) {
        const { data, headers } = errorReply(err);
        for (const [k, v] of ctx.replyHeaders ?? []) if (!headers.has(k)) headers.set(k, v.join(','));
        msg.respond(data, { headers });
      }
    } finally {
      this.metrics.observe('nats', subject, start, code);
    }
  }

  async request<E extends Endpoint<z.ZodType, unknown>>(endpoint: E, payload: z.input<E['request']>, opts: CallOptions = {}): Promise<ResOf<E>> {
    return this.requestSubject(endpoint.subject(this.client.names), payload, opts) as Promise<ResOf<E>>;
  }

  async requestSubject(subject: string, payload: unknown, opts: CallOptions = {}): Promise<unknown> {
    const tracer = this.tracer;
    const forwarded = opts.headers?.get(Headers.TraceParent) || undefined;
    // A call made outside any trace stays untraced (the server starts a trace if it wants one).
    if (!tracer || (!activeSpan() && !forwarded)) return this.requestOnce(subject, payload, opts);
    return tracer.inSpan(subject, { kind: 'client', parent: forwarded, attributes: { [SpanAttributes.Subject]: subject } }, (span) =>
      this.requestOnce(subject, payload, { ...opts, headers: withHeader(opts.headers, Headers.TraceParent, tracer.traceparentOf(span)) }),
    );
  }

  private async requestOnce(subject: string, payload: unknown, opts: CallOptions): Promise<unknown> {
    let reply: Msg;
    try {
      this.mux ??= new RequestMux(this.client.nc);
      reply = await this.mux.request(subject, encode(payload), opts.timeoutMs ?? this.client.options.requestTimeoutMs, opts.headers);
    } catch (e) {
      throw mapRequestFailure(e, subject);
    }
    const body = decode(reply.data);
    const err = errorFromReply(reply.headers, body);
    if (err) throw err;
    return body;
  }

  publish(subject: string, payload: unknown, headers?: MsgHdrs): void {
    // Inside a span, the receiver continues the trace: no span of its own (a publish is fire-and-forget and
    // frequent; a span each would cost more than the publish), just the context.
    const span = this.tracer && !headers?.has(Headers.TraceParent) ? activeSpan() : undefined;
    if (span && this.tracer) headers = withHeader(headers, Headers.TraceParent, this.tracer.traceparentOf(span));
    this.client.nc.publish(subject, encode(payload), headers ? { headers } : undefined);
  }

  /**
   * Shutdown: stop taking requests (replicas in the queue group take them), then give the
   * ones being served up to the grace period to reply before the connection drains.
   */
  async beforeApplicationShutdown(): Promise<void> {
    for (const s of this.subs.splice(0)) s.unsubscribe();
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.client.options.drainGraceMs ?? 10_000)));
    await Promise.race([Promise.allSettled([...this.inFlight]), grace]);
    clearTimeout(timer);
  }
}

function mapRequestFailure(e: unknown, subject: string): Error {
  const err = e as Error & { isNoResponders?: () => boolean; cause?: unknown };
  const causeName = err?.cause instanceof Error ? err.cause.name : '';
  if (err?.isNoResponders?.() === true || err?.name === 'NoRespondersError' || causeName === 'NoRespondersError') {
    return new UnavailableError(`No service is answering ${serviceOf(subject)}`, { cause: e, retryAfter: 1 });
  }
  if (err?.name === 'TimeoutError' || causeName === 'TimeoutError') {
    return new SbTimeoutError(`${serviceOf(subject)} did not answer in time`, { cause: e, retryAfter: 1 });
  }
  return new UnavailableError(`Messaging failure calling ${serviceOf(subject)}`, { cause: e, retryAfter: 1 });
}

function serviceOf(subject: string): string {
  const parts = subject.split('.');
  return parts.length > 3 ? parts.slice(2, 4).join(' ') : subject;
}

/** A copy of `from` (never changed: callers may reuse it) with `name` set to `value`. */
function withHeader(from: MsgHdrs | undefined, name: string, value: string): MsgHdrs {
  const out = natsHeaders();
  if (from) for (const [k, vs] of from) if (k !== name) for (const v of vs) out.append(k, v);
  out.set(name, value);
  return out;
}

/** Copy the headers a downstream call must carry (trace, idempotency). */
export function forwardHeaders(from: MsgHdrs | undefined, names: string[] = [Headers.TraceParent, Headers.TraceState]): MsgHdrs | undefined {
  if (!from) return undefined;
  let out: MsgHdrs | undefined;
  for (const n of names) {
    const v = from.get(n);
    if (v) {
      out ??= natsHeaders();
      out.set(n, v);
    }
  }
  return out;
}
