/**
 * Wraps an exporter so that a dead collector costs one warning, not a log line per batch:
 * the first failure is logged, later ones are counted until an export succeeds again.
 */
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { AppLogger } from '../logger';

export class QuietExporter implements SpanExporter {
  private failing = false;
  private failures = 0;

  constructor(
    private readonly inner: SpanExporter,
    private readonly name: string,
    private readonly logger: AppLogger,
    private readonly onFailure: () => void = () => undefined,
  ) {}

  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    let settled = false;
    const finish = (r: ExportResult) => {
      if (settled) return;
      settled = true;
      if (r.code === ExportResultCode.SUCCESS) {
        if (this.failing) this.logger.info({ exporter: this.name, failedBatches: this.failures }, 'span export recovered');
        this.failing = false;
        this.failures = 0;
      } else {
        this.failures++;
        this.onFailure();
        if (!this.failing) this.logger.warn({ exporter: this.name, err: r.error?.message }, 'span export failed; spans are dropped until it recovers (logged once)');
        this.failing = true;
      }
      done(r);
    };
    try {
      this.inner.export(spans, finish);
    } catch (e) {
      finish({ code: ExportResultCode.FAILED, error: e instanceof Error ? e : new Error(String(e)) });
    }
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown().catch(() => undefined);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.().catch(() => undefined) ?? Promise.resolve();
  }
}
