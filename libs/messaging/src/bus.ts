/**
 * The bus client: typed request/reply over core NATS by contract endpoint, and publish. `request`
 * turns an error reply back into the same SbError the server threw; requests inside a trace get a
 * client span and carry its `traceparent`. Serving is the transport's (transport/): handlers are
 * declared with `@MessagePattern`, `@EventPattern` and `@JetStreamConsumer`.
 */
import { Inject, Injectable, Optional } from '@nestjs/common';
import { headers as natsHeaders, type Msg, type MsgHdrs } from '@nats-io/nats-core';
import {
  type Endpoint,
  Headers,
  type ResOf,
  SpanAttributes,
  TimeoutError as SbTimeoutError,
  UnavailableError,
} from '@sb/contracts';
import { activeSpan, ServiceTracer } from '@sb/observability';
import type { z } from 'zod';
import { decode, encode } from './codec';
import { NatsClient } from './nats-client';
import { errorFromReply } from './wire-errors';

export interface CallOptions {
  headers?: MsgHdrs;
  timeoutMs?: number;
}

@Injectable()
export class Bus {
  constructor(
    @Inject(NatsClient) private readonly client: NatsClient,
    /** Spans for the requests and publishes this service makes (absent in bare test setups). */
    @Optional() @Inject(ServiceTracer) readonly tracer?: ServiceTracer,
  ) {}

  get names() {
    return this.client.names;
  }

  /** This process of the service (see NatsClient.self). */
  get self() {
    return this.client.self;
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
      reply = await this.client.mux.request(subject, encode(payload), opts.timeoutMs ?? this.client.options.requestTimeoutMs, opts.headers);
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
