/**
 * Exports finished spans to the span stream: one message per trace per export batch (the
 * batch span processor calls this off the request path), so a task's spans can be read back
 * by its trace id without an external tracing backend.
 */
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { StoredSpan } from '@sb/contracts';
import { toStoredSpan } from './span-record';

export interface SpanSink {
  /** Write one batch of encoded spans per trace. Rejects if the stream cannot be written. */
  write(batches: { traceId: string; data: Uint8Array }[]): Promise<void>;
}

const enc = new TextEncoder();

export class SpanStreamExporter implements SpanExporter {
  private stopped = false;

  constructor(
    private readonly sink: SpanSink,
    private readonly service: string,
  ) {}

  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    if (this.stopped) return done({ code: ExportResultCode.FAILED, error: new Error('span stream exporter is shut down') });
    const byTrace = new Map<string, StoredSpan[]>();
    for (const s of spans) {
      const stored = toStoredSpan(s, this.service);
      const list = byTrace.get(stored.traceId);
      if (list) list.push(stored);
      else byTrace.set(stored.traceId, [stored]);
    }
    const batches = [...byTrace].map(([traceId, list]) => ({ traceId, data: enc.encode(JSON.stringify({ spans: list })) }));
    this.sink.write(batches).then(
      () => done({ code: ExportResultCode.SUCCESS }),
      (error: unknown) => done({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) }),
    );
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
  }

  async forceFlush(): Promise<void> {}
}
