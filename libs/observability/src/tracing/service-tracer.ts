/**
 * One OpenTelemetry tracer per service (its own provider, so several services in one process
 * keep their own `service.name`): parent-based ratio sampling, batched export to OTLP/HTTP
 * when an endpoint is configured and to the span stream, never on the request path. Spans
 * continue the caller's W3C `traceparent`, or start a trace.
 */
import { type Attributes, context, type Context, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type Span as SdkSpan,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { SpanAttributes } from '@sb/contracts';
import type { AppLogger } from '../logger';
import { QuietExporter } from './quiet.exporter';
import { formatTraceparent, parseTraceparent } from './traceparent';

export interface TracingSettings {
  TRACING_ENABLED: boolean;
  OTEL_TRACES_SAMPLER_ARG: number;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  TRACE_SPANS_STREAM: boolean;
  TRACE_EXPORT_DELAY_MS: number;
  TRACE_SPANS_MAX_AGE_S: number;
  TRACE_SPANS_MAX_BYTES: number;
}
export const DEFAULT_TRACING: TracingSettings = {
  TRACING_ENABLED: true,
  OTEL_TRACES_SAMPLER_ARG: 1,
  TRACE_SPANS_STREAM: true,
  TRACE_EXPORT_DELAY_MS: 1_000,
  TRACE_SPANS_MAX_AGE_S: 24 * 3600,
  TRACE_SPANS_MAX_BYTES: 256 * 1024 * 1024,
};

/** The tracing keys of an app's parsed config (apps that spread tracingConfigShape), defaults for the rest. */
export function tracingSettingsOf(config: unknown): TracingSettings {
  const c = (config ?? {}) as Partial<TracingSettings>;
  const out = { ...DEFAULT_TRACING };
  for (const k of Object.keys(DEFAULT_TRACING) as (keyof TracingSettings)[]) if (c[k] !== undefined) (out as Record<string, unknown>)[k] = c[k];
  if (typeof c.OTEL_EXPORTER_OTLP_ENDPOINT === 'string') out.OTEL_EXPORTER_OTLP_ENDPOINT = c.OTEL_EXPORTER_OTLP_ENDPOINT;
  return out;
}

export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer';
const KIND: Record<SpanKindName, SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

export interface StartSpanOptions {
  kind?: SpanKindName;
  attributes?: Attributes;
  /** A caller's `traceparent`: the parent when no span is active (or always, with `root`). */
  parent?: string;
  /** Ignore the active context (a message handler: its parent is what the message carries). */
  root?: boolean;
}

/** Hands finished spans to several batch processors added over the service's life. */
class FanOutProcessor implements SpanProcessor {
  readonly processors: SpanProcessor[] = [];
  onStart(span: SdkSpan, ctx: Context): void {
    for (const p of this.processors) p.onStart(span, ctx);
  }
  onEnd(span: ReadableSpan): void {
    for (const p of this.processors) p.onEnd(span);
  }
  async forceFlush(): Promise<void> {
    await Promise.all(this.processors.map((p) => p.forceFlush().catch(() => undefined)));
  }
  async shutdown(): Promise<void> {
    await Promise.all(this.processors.map((p) => p.shutdown().catch(() => undefined)));
  }
}

let contextManagerInstalled = false;
function installContextManager(): void {
  if (contextManagerInstalled) return;
  contextManagerInstalled = true;
  // Returns false if the process already has one (another OTel setup): that one is used.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

export class ServiceTracer {
  readonly enabled: boolean;
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;
  private readonly fanOut = new FanOutProcessor();
  private stopped = false;

  constructor(
    readonly service: string,
    readonly settings: TracingSettings,
    private readonly logger: AppLogger,
    private readonly onExportFailure: (exporter: string) => void = () => undefined,
  ) {
    this.enabled = settings.TRACING_ENABLED;
    // Disabled: no async context either (its AsyncLocalStorage costs every promise a little).
    if (this.enabled) installContextManager();
    const sampler = this.enabled ? new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.OTEL_TRACES_SAMPLER_ARG) }) : new AlwaysOffSampler();
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: service }),
      sampler,
      spanProcessors: [this.fanOut],
    });
    this.tracer = this.provider.getTracer('switchboard');
    const endpoint = settings.OTEL_EXPORTER_OTLP_ENDPOINT;
    if (this.enabled && endpoint) {
      this.addExporter('otlp', new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces`, timeoutMillis: 5_000 }));
      this.logger.info({ endpoint }, 'exporting spans over OTLP/HTTP');
    }
  }

  /** True when spans should also go to the span stream (the transport adds that exporter). */
  get exportsToStream(): boolean {
    return this.enabled && this.settings.TRACE_SPANS_STREAM;
  }

  /** Export finished spans with `exporter`, batched off the request path; failures are logged once. */
  addExporter(name: string, exporter: SpanExporter): void {
    if (!this.enabled) return;
    const quiet = new QuietExporter(exporter, name, this.logger, () => this.onExportFailure(name));
    this.fanOut.processors.push(
      new BatchSpanProcessor({ exporter: quiet, scheduledDelayMillis: this.settings.TRACE_EXPORT_DELAY_MS, maxExportBatchSize: 512, maxQueueSize: 8192, exportTimeoutMillis: 10_000 }),
    );
  }

  startSpan(name: string, opts: StartSpanOptions = {}): Span {
    return this.tracer.startSpan(name, { kind: KIND[opts.kind ?? 'internal'], attributes: opts.attributes }, this.parentContext(opts));
  }

  /**
   * Run `fn` inside a new span (the active one for everything it calls); the span ends with its
   * outcome. Disabled, `fn` gets a span that records nothing (its ids still give a traceparent).
   */
  async inSpan<T>(name: string, opts: StartSpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
    if (!this.enabled) return fn(this.tracer.startSpan(name, undefined, this.parentContext(opts)));
    const parent = this.parentContext(opts);
    const span = this.tracer.startSpan(name, { kind: KIND[opts.kind ?? 'internal'], attributes: opts.attributes }, parent);
    try {
      return await context.with(trace.setSpan(parent, span), fn, undefined, span);
    } catch (e) {
      markSpanError(span, e);
      throw e;
    } finally {
      span.end();
    }
  }

  /** The `traceparent` that makes the receiver a child of `span`. */
  traceparentOf(span: Span): string {
    return formatTraceparent(span.spanContext());
  }

  /** The active span's `traceparent`, if any span is active. */
  activeTraceparent(): string | undefined {
    const span = trace.getSpan(context.active());
    return span ? formatTraceparent(span.spanContext()) : undefined;
  }

  async flush(): Promise<void> {
    await this.provider.forceFlush().catch(() => undefined);
  }

  /** Nest lifecycle: flush while the transports are still open, shut down after. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.shutdown();
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.provider.shutdown().catch(() => undefined);
  }

  private parentContext(opts: StartSpanOptions): Context {
    if (!opts.root) {
      const active = context.active();
      if (trace.getSpan(active)) return active;
    }
    const remote = parseTraceparent(opts.parent);
    return remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT;
  }
}

/** Mark the active (or given) span failed with an error's code; message text stays out of the span. */
export function markSpanError(span: Span | undefined, e: unknown): void {
  if (!span || !span.isRecording()) return;
  const code = typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : (e as Error)?.name || 'ERROR';
  span.setAttribute(SpanAttributes.ErrorCode, code.slice(0, 64));
  span.setStatus({ code: SpanStatusCode.ERROR, message: code.slice(0, 64) });
}

/** The span active in the current async context (undefined outside any span). */
export function activeSpan(): Span | undefined {
  return trace.getSpan(context.active());
}
