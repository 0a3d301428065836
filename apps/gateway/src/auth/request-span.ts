/**
 * A route's own span, declared with `@RequestSpan(SpanNames.Submit)`. It is opened before the
 * handler's AuthGuard, so the credential check runs inside it (auth's spans are its children),
 * stays active for the pipes and the handler, and ends with their outcome. It continues the
 * caller's `traceparent` header, or starts a trace. Handlers read its traceparent with
 * `@SpanTraceparent()`. NATS handlers declare theirs on the bus instead
 * (`@MessagePattern(endpoint, { span })`), which opens it around guards and pipes without an
 * Observable per message.
 */
import {
  applyDecorators,
  type CallHandler,
  createParamDecorator,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { context, type Span, trace } from '@opentelemetry/api';
import { Headers, SpanAttributes } from '@sb/contracts';
import type { SbContext } from '@sb/messaging';
import { activeSpan, formatTraceparent, markSpanError, ServiceTracer } from '@sb/observability';
import { finalize, type Observable, tap } from 'rxjs';
import { type HeadersCarrier, httpHeader } from './request-context';
import { requestState } from './request-state';

const SPAN_NAME = 'sb:request-span';

/** The caller's `traceparent`: the message header (NATS) or the request header (HTTP). */
function callerTraceparent(ctx: ExecutionContext): string | undefined {
  if (ctx.getType() === 'rpc') return ctx.switchToRpc().getContext<SbContext>().header(Headers.TraceParent);
  return httpHeader(ctx.switchToHttp().getRequest<HeadersCarrier>(), Headers.TraceParent);
}

@Injectable()
export class RequestSpans {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ServiceTracer) private readonly tracer: ServiceTracer,
  ) {}

  /** The handler's span for this request, opened on the first call; undefined when the handler declares none. */
  open(ctx: ExecutionContext): Span | undefined {
    const state = requestState(ctx);
    if (state.span) return state.span;
    const name = this.reflector.get<string | undefined>(SPAN_NAME, ctx.getHandler());
    if (!name) return undefined;
    const opened = this.start(name, ctx.getType() === 'rpc' ? 'nats' : 'http', callerTraceparent(ctx));
    state.span = opened.span;
    state.spanTraceparent = opened.traceparent;
    return state.span;
  }

  /** A request's span named `name`, continuing the caller's `parent` traceparent, and the traceparent continuing it. */
  start(name: string, transport: 'http' | 'nats', parent: string | undefined): { span: Span; traceparent: string } {
    // Over NATS with a traceparent the bus already serves the message in a span; otherwise this is the trace's first span.
    const kind = activeSpan() ? 'internal' : 'server';
    const span = this.tracer.startSpan(name, { kind, parent, attributes: { [SpanAttributes.Transport]: transport } });
    return { span, traceparent: this.tracer.traceparentOf(span) };
  }

  /** `fn` inside the request's span, if the handler declares one; a failure ends the span as failed. */
  async within<T>(ctx: ExecutionContext, fn: () => Promise<T>): Promise<T> {
    const span = this.open(ctx);
    if (!span) return fn();
    try {
      return await inSpan(span, fn);
    } catch (e) {
      span.end();
      throw e;
    }
  }
}

/** `fn` with `span` active; a failure marks the span failed (ending it is the caller's). */
export async function inSpan<T>(span: Span, fn: () => Promise<T>): Promise<T> {
  try {
    return await context.with(trace.setSpan(context.active(), span), fn);
  } catch (e) {
    markSpanError(span, e);
    throw e;
  }
}

/** Pipes and handler inside the request's span, which ends with their outcome. */
@Injectable()
export class RequestSpanInterceptor implements NestInterceptor {
  constructor(@Inject(RequestSpans) private readonly spans: RequestSpans) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const span = this.spans.open(ctx);
    if (!span) return next.handle();
    // handle() binds the handler to the async context it is called in: the span's.
    return context.with(trace.setSpan(context.active(), span), () => next.handle()).pipe(
      tap({ error: (e: unknown) => markSpanError(span, e) }),
      finalize(() => span.end()),
    );
  }
}

/** The handler runs in a span of its own named `name` (opened before its guard). */
export const RequestSpan = (name: string) => applyDecorators(SetMetadata(SPAN_NAME, name), UseInterceptors(RequestSpanInterceptor));

/**
 * The traceparent continuing the handler's own span: its `@RequestSpan` (HTTP), or over NATS the
 * span the bus opened for it (`@MessagePattern(endpoint, { span })`), which is the active one.
 */
export const SpanTraceparent = createParamDecorator((_data: unknown, ctx: ExecutionContext): string | undefined => {
  const own = requestState(ctx).spanTraceparent;
  if (own || ctx.getType() !== 'rpc') return own;
  const span = activeSpan();
  return span ? formatTraceparent(span.spanContext()) : undefined;
});
