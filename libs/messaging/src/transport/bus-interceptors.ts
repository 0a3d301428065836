/**
 * The bus interceptors every service runs, outermost first: metrics (RED per endpoint), tracing
 * (a server span continuing the message's `traceparent`), error mapping (anything thrown becomes
 * an SbError, the unexpected logged with its stack, never sent), and the handler's time limit.
 */
import { Headers, SpanAttributes, TimeoutError } from '@sb/contracts';
import { activeSpan, type AppLogger, markSpanError, type ServiceMetrics, type ServiceTracer } from '@sb/observability';
import { asSbError } from '../wire-errors';
import type { BusCall, BusInterceptor, HandlerKind } from './bus-interceptor';
import type { HandlerExtras } from './patterns';

/** `sb_requests_total` and `sb_request_duration_seconds` with transport="nats", per endpoint pattern (bounded). */
export class MetricsBusInterceptor implements BusInterceptor {
  constructor(private readonly metrics: ServiceMetrics) {}

  async around(call: BusCall, next: () => Promise<unknown>): Promise<unknown> {
    const start = process.hrtime.bigint();
    let code = '';
    try {
      return await next();
    } catch (e) {
      code = asSbError(e).err.code;
      throw e;
    } finally {
      this.metrics.observe('nats', call.ctx.pattern, start, code);
    }
  }
}

/**
 * A server span per request that carries a `traceparent`; a request outside any trace is served
 * without one (internal calls would otherwise each start a trace of one span). Events and consumer
 * messages get none: they are fire-and-forget followers of work that already ended (a task's final
 * event reaching usage accounting), and as children they would stretch the trace past its outcome.
 */
export class TracingBusInterceptor implements BusInterceptor {
  constructor(private readonly tracer: ServiceTracer) {}

  appliesTo(kind: HandlerKind): boolean {
    return kind === 'request' && this.tracer.enabled;
  }

  around(call: BusCall, next: () => Promise<unknown>): Promise<unknown> {
    const parent = call.ctx.header(Headers.TraceParent);
    if (!parent) return next();
    return this.tracer.inSpan(call.ctx.pattern, { kind: 'server', root: true, parent, attributes: { [SpanAttributes.Subject]: call.ctx.pattern } }, next);
  }
}

/**
 * `@MessagePattern(endpoint, { span })`: the handler's own span, a child of the served span (or
 * the first span of a trace when the caller sent none). Guards, pipes and the method run in it.
 */
export class HandlerSpanBusInterceptor implements BusInterceptor {
  constructor(private readonly tracer: ServiceTracer) {}

  appliesTo(kind: HandlerKind, extras: HandlerExtras): boolean {
    return kind === 'request' && !!extras.span && this.tracer.enabled;
  }

  around(call: BusCall, next: () => Promise<unknown>): Promise<unknown> {
    const kind = activeSpan() ? 'internal' : 'server';
    return this.tracer.inSpan(call.extras.span!, { kind, parent: call.ctx.header(Headers.TraceParent), attributes: { [SpanAttributes.Transport]: 'nats' } }, next);
  }
}

/** Anything a handler throws leaves as an SbError; what was not one is logged here, once, with its stack. */
export class ErrorMappingBusInterceptor implements BusInterceptor {
  constructor(private readonly logger: AppLogger) {}

  async around(call: BusCall, next: () => Promise<unknown>): Promise<unknown> {
    try {
      return await next();
    } catch (e) {
      const { err, unexpected } = asSbError(e);
      markSpanError(activeSpan(), err);
      if (unexpected) {
        const what = call.kind === 'request' ? 'handler failed' : `${call.kind} handler failed`;
        this.logger.error({ err: e, subject: call.ctx.subject }, err.status === 503 ? 'dependency failure' : what);
      }
      throw err;
    }
  }
}

/** `@MessagePattern(endpoint, { timeoutMs })`: the caller gets SERVICE.TIMEOUT when the handler takes longer. */
export class TimeoutBusInterceptor implements BusInterceptor {
  appliesTo(_kind: HandlerKind, extras: HandlerExtras): boolean {
    return !!extras.timeoutMs;
  }

  around(call: BusCall, next: () => Promise<unknown>): Promise<unknown> {
    const ms = call.ctx.timeoutMs;
    if (!ms) return next();
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`${call.ctx.pattern} did not finish within ${ms} ms`, { retryAfter: 1 })), ms);
    });
    return Promise.race([next(), limit]).finally(() => clearTimeout(timer));
  }
}
