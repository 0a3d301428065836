/**
 * The bus as a Nest transport. Handlers are controller methods declared with
 * `@MessagePattern(<request endpoint>)`, `@EventPattern(<event endpoint>)` or
 * `@JetStreamConsumer(<consumer endpoint>)`; Nest finds them like HTTP routes, runs its guards
 * and pipes, and hands them here. This strategy subscribes each under the service's prefix and
 * awaits the handler directly for every message (no Observable, no per-request inbox), with the
 * bus interceptors (metrics, tracing, error mapping, time limits) around it.
 *
 * Requests are served in the service's queue group and always answered: the handler's value,
 * or the structured error (`Nats-Service-Error*` headers and `{error}` body). Events reach every
 * replica unless the endpoint is `shared`. Consumer messages are acked when the handler returns,
 * nak'd with backoff when it fails retryably, and terminated when they can never succeed.
 */
import type { Msg, Subscription } from '@nats-io/nats-core';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { type CustomTransportStrategy, type MessageHandler, type MsPattern, Server } from '@nestjs/microservices';
import type { AnyEndpoint, ConsumerEndpoint } from '@sb/contracts';
import { type AppLogger, LOGGER } from '@sb/observability';
import { isObservable, lastValueFrom } from 'rxjs';
import { backoffMs } from '../backoff';
import { decode, encode, tryDecode } from '../codec';
import { NatsClient } from '../nats-client';
import { asSbError, errorReply } from '../wire-errors';
import { BUS_INTERCEPTORS, type BusInterceptor, chain, type HandlerKind } from './bus-interceptor';
import { describe, endpointKey, type HandlerExtras, isConsumer, isEndpoint, isEvent } from './patterns';
import { SbContext } from './sb-context';

export const SB_TRANSPORT = Symbol('sb-nats');
const DEFAULT_MAX_BYTES = 1024 * 1024;
const CONSUMER_RETRY = { baseMs: 500, maxMs: 30_000 };
const NO_EXTRAS: HandlerExtras = Object.freeze({});

@Injectable()
export class SbTransport extends Server implements CustomTransportStrategy, OnApplicationBootstrap, BeforeApplicationShutdown {
  override readonly transportId = SB_TRANSPORT;
  /** Errors of event handlers come back here (to be counted and logged), not swallowed by Nest. */
  override readonly propagatesEventHandlerErrors = true;
  private readonly endpoints = new Map<string, AnyEndpoint>();
  private readonly subs: Subscription[] = [];
  private readonly consumers: ConsumerMessages[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(
    @Inject(NatsClient) private readonly client: NatsClient,
    @Inject(BUS_INTERCEPTORS) private readonly interceptors: BusInterceptor[],
    @Inject(LOGGER) private readonly log: AppLogger,
  ) {
    super();
  }

  /** The contract's endpoint objects are patterns too: each is filed under a key of its own. */
  protected override normalizePattern(pattern: MsPattern): string {
    if (!isEndpoint(pattern)) return super.normalizePattern(pattern);
    const key = endpointKey(pattern);
    this.endpoints.set(key, pattern);
    return key;
  }

  /** Started by `app.startAllMicroservices()`, or at bootstrap for apps (and tests) that only init. */
  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    this.start()
      .then(() => callback())
      .catch((e: unknown) => callback(e));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.start();
  }

  /** Subscribes once, whichever of listen() and bootstrap comes first. */
  private starting?: Promise<void>;
  private start(): Promise<void> {
    this.starting ??= this.subscribeAll();
    return this.starting;
  }

  private async subscribeAll(): Promise<void> {
    for (const [key, handler] of this.messageHandlers) {
      const endpoint = this.endpoints.get(key);
      if (!endpoint) {
        this.log.warn({ pattern: key }, 'a handler is declared with a pattern that is not a contract endpoint; it is not served');
        continue;
      }
      if (isConsumer(endpoint)) this.startConsumer(endpoint, handler);
      else this.subscribe(endpoint, handler, handler.extras as HandlerExtras | undefined);
    }
    // One round trip: every subscription is known to the server before the service says it is ready.
    await this.client.nc.flush();
  }

  private subscribe(endpoint: AnyEndpoint, handler: MessageHandler, extras: HandlerExtras = {}): void {
    const n = this.client.names;
    const pattern = describe(endpoint, n, this.client.self);
    const event = isEvent(endpoint);
    const kind: HandlerKind = event ? 'event' : 'request';
    const maxBytes = event ? endpoint.maxBytes : (extras.maxPayloadBytes ?? DEFAULT_MAX_BYTES);
    const queue = event ? (endpoint.shared ? n.queueGroup(this.client.options.service) : undefined) : (extras.queue ?? n.queueGroup(this.client.options.service));
    const around = this.interceptorsFor(kind, extras);
    const sub = this.client.nc.subscribe(pattern, {
      queue,
      callback: (err, msg) => {
        if (err) {
          this.log.error({ err, subject: pattern }, 'subscription error');
          return;
        }
        this.track(event ? this.onEvent(handler, msg, pattern, maxBytes, around) : this.onRequest(handler, msg, pattern, maxBytes, extras, around));
      },
    });
    this.subs.push(sub);
  }

  /** The interceptors that have something to do for handlers of this kind, chosen once per handler. */
  private interceptorsFor(kind: HandlerKind, extras: HandlerExtras): BusInterceptor[] {
    return this.interceptors.filter((i) => i.appliesTo?.(kind, extras) ?? true);
  }

  private async onRequest(handler: MessageHandler, msg: Msg, pattern: string, maxBytes: number, extras: HandlerExtras, around: BusInterceptor[]): Promise<void> {
    const ctx = new SbContext(msg, pattern, extras.timeoutMs);
    try {
      const res = await chain(around, { kind: 'request', ctx, extras }, () => this.invoke(handler, decode(msg.data, maxBytes), ctx));
      if (msg.reply) msg.respond(encode(res), ctx.replyHeaders ? { headers: ctx.replyHeaders } : undefined);
    } catch (e) {
      if (!msg.reply) return;
      const { data, headers } = errorReply(asSbError(e).err);
      for (const [k, v] of ctx.replyHeaders ?? []) if (!headers.has(k)) headers.set(k, v.join(','));
      msg.respond(data, { headers });
    }
  }

  private async onEvent(handler: MessageHandler, msg: Msg, pattern: string, maxBytes: number, around: BusInterceptor[]): Promise<void> {
    const ctx = new SbContext(msg, pattern);
    try {
      await chain(around, { kind: 'event', ctx, extras: NO_EXTRAS }, () => this.invoke(handler, tryDecode(msg.data, maxBytes), ctx));
    } catch {
      // Counted and logged by the interceptors; an event has nobody to answer.
    }
  }

  /** Nest's handler (guards, pipes, then the method), awaited; an exception filter's Observable is unwrapped. */
  private async invoke(handler: MessageHandler, data: unknown, ctx: SbContext): Promise<unknown> {
    const out: unknown = await handler(data, ctx);
    return isObservable(out) ? lastValueFrom(out, { defaultValue: undefined }) : out;
  }

  private startConsumer(endpoint: ConsumerEndpoint, handler: MessageHandler): void {
    const n = this.client.names;
    const pattern = describe(endpoint, n, this.client.self);
    const around = this.interceptorsFor('consumer', NO_EXTRAS);
    const run = async (attempt: number): Promise<void> => {
      if (this.stopped) return;
      try {
        const consumer = await this.client.js.consumers.get(endpoint.stream(n), endpoint.durable(n));
        const messages = await consumer.consume({ max_messages: endpoint.concurrency });
        this.consumers.push(messages);
        attempt = 0;
        const slots = new Set<Promise<void>>();
        for await (const m of messages) {
          const p = this.onConsumed(handler, m, pattern, endpoint.maxBytes, around);
          slots.add(p);
          this.track(p.finally(() => slots.delete(p)));
          if (slots.size >= endpoint.concurrency) await Promise.race(slots);
        }
      } catch (err) {
        if (this.stopped) return;
        this.log.warn({ err, consumer: pattern }, 'consumer stopped; starting it again');
      }
      if (this.stopped) return;
      setTimeout(() => void run(attempt + 1), backoffMs(CONSUMER_RETRY, attempt + 1)).unref();
    };
    void run(0);
  }

  private async onConsumed(handler: MessageHandler, m: JsMsg, pattern: string, maxBytes: number, around: BusInterceptor[]): Promise<void> {
    const ctx = new SbContext(m, pattern, undefined, m);
    try {
      await chain(around, { kind: 'consumer', ctx, extras: NO_EXTRAS }, () => this.invoke(handler, decode(m.data, maxBytes), ctx));
      if (!ctx.settled) m.ack();
    } catch (e) {
      if (ctx.settled) return;
      const err = asSbError(e).err;
      if (err.retryable) m.nak(backoffMs(CONSUMER_RETRY, m.info.deliveryCount));
      // No reason text: `+TERM <reason>` needs nats-server 2.10.4+; 2.9 ignores it and the message stays pending.
      else m.term();
    }
  }

  private track(p: Promise<unknown>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /**
   * Shutdown: stop taking messages (replicas in the queue group take them), then give the ones
   * being served up to the grace period to finish before the connection drains.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of this.subs.splice(0)) s.unsubscribe();
    for (const c of this.consumers.splice(0)) await c.close().catch(() => undefined);
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.client.options.drainGraceMs ?? 10_000)));
    await Promise.race([Promise.allSettled([...this.inFlight]), grace]);
    clearTimeout(timer);
  }

  on(): never {
    throw new Error('SbTransport has no events to listen to; use the NatsClient status');
  }

  unwrap<T>(): T {
    return this.client.nc as T;
  }
}
