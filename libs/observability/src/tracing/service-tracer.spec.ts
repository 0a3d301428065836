import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { StoredSpan } from '@sb/contracts';
import { createLogger } from '../logger';
import { QuietExporter } from './quiet.exporter';
import { DEFAULT_TRACING, ServiceTracer, tracingSettingsOf } from './service-tracer';
import { safeAttributes } from './span-record';
import { SpanStreamExporter } from './span-stream.exporter';
import { formatTraceparent, parseTraceparent } from './traceparent';

const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const logger = createLogger('test', 'silent');

/** Collects what the tracer exports, through the same span-stream encoding the services use. */
function collecting(tracer: ServiceTracer): () => StoredSpan[] {
  const out: StoredSpan[] = [];
  tracer.addExporter('test', new SpanStreamExporter({ write: async (batches) => void batches.forEach((b) => out.push(...JSON.parse(new TextDecoder().decode(b.data)).spans)) }, tracer.service));
  return () => out;
}

function tracer(settings: Partial<typeof DEFAULT_TRACING> = {}, service = 'svc') {
  const t = new ServiceTracer(service, { ...DEFAULT_TRACING, TRACE_EXPORT_DELAY_MS: 10, ...settings }, logger);
  return { t, spans: collecting(t) };
}

describe('traceparent', () => {
  it('parses a valid W3C traceparent and formats it back', () => {
    const sc = parseTraceparent(PARENT)!;
    expect(sc).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });
    expect(formatTraceparent(sc)).toBe(PARENT);
    expect(parseTraceparent(` ${PARENT.toUpperCase()} `)?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it.each([
    ['empty', ''],
    ['junk', 'not-a-traceparent'],
    ['zero trace id', '00-00000000000000000000000000000000-b7ad6b7169203331-01'],
    ['zero span id', '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01'],
    ['version ff', 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
    ['v00 with extra fields', `${PARENT}-extra`],
    ['short span id', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01'],
  ])('rejects %s', (_label, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('keeps the unsampled flag', () => {
    expect(formatTraceparent(parseTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00')!)).toMatch(/-00$/);
  });
});

describe('ServiceTracer', () => {
  it('continues the caller trace with new span ids, nests the spans it runs, and names the service', async () => {
    const { t, spans } = tracer({}, 'gateway');
    let inner = '';
    await t.inSpan('outer', { kind: 'server', parent: PARENT }, async () => {
      await t.inSpan('inner', {}, async (s) => {
        inner = t.traceparentOf(s);
        expect(t.activeTraceparent()).toBe(inner);
      });
    });
    await t.flush();
    const [a, b] = [spans().find((s) => s.name === 'outer')!, spans().find((s) => s.name === 'inner')!];
    expect(a).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', parentSpanId: 'b7ad6b7169203331', kind: 'server', service: 'gateway' });
    expect(b).toMatchObject({ traceId: a.traceId, parentSpanId: a.spanId, service: 'gateway' });
    expect(b.spanId).not.toBe(a.spanId);
    expect(inner).toBe(`00-${a.traceId}-${b.spanId}-01`);
    await t.shutdown();
  });

  it('starts a new trace without a parent, and a message handler (root) ignores the active span', async () => {
    const { t, spans } = tracer();
    await t.inSpan('first', {}, async () => {
      await t.inSpan('handler', { root: true, parent: 'junk' }, async () => undefined);
    });
    await t.flush();
    const first = spans().find((s) => s.name === 'first')!;
    const handler = spans().find((s) => s.name === 'handler')!;
    expect(first.parentSpanId).toBeUndefined();
    expect(handler.parentSpanId).toBeUndefined();
    expect(handler.traceId).not.toBe(first.traceId);
    await t.shutdown();
  });

  it('records a failure and rethrows it', async () => {
    const { t, spans } = tracer();
    const err = Object.assign(new Error('secret detail'), { code: 'TENANCY.QUOTA_EXCEEDED' });
    await expect(t.inSpan('fails', {}, async () => Promise.reject(err))).rejects.toBe(err);
    await t.flush();
    expect(spans()[0]).toMatchObject({ status: 'error', statusMessage: 'TENANCY.QUOTA_EXCEEDED', attributes: { 'sb.error.code': 'TENANCY.QUOTA_EXCEEDED' } });
    expect(JSON.stringify(spans())).not.toContain('secret detail');
    await t.shutdown();
  });

  it('samples new traces by ratio but always follows a sampled parent', async () => {
    const { t, spans } = tracer({ OTEL_TRACES_SAMPLER_ARG: 0 });
    let unsampled = '';
    await t.inSpan('new-trace', {}, async (s) => void (unsampled = t.traceparentOf(s)));
    await t.inSpan('sampled-parent', { parent: PARENT }, async () => undefined);
    await t.flush();
    expect(spans().map((s) => s.name)).toEqual(['sampled-parent']);
    // The unsampled span still propagates a valid context, flagged unsampled.
    expect(parseTraceparent(unsampled)?.traceFlags).toBe(0);
    await t.shutdown();
  });

  it('exports nothing when disabled, yet still carries the context', async () => {
    const { t, spans } = tracer({ TRACING_ENABLED: false });
    let tp = '';
    await t.inSpan('x', { parent: PARENT }, async (s) => void (tp = t.traceparentOf(s)));
    await t.flush();
    expect(spans()).toEqual([]);
    expect(parseTraceparent(tp)?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(t.exportsToStream).toBe(false);
    await t.shutdown();
  });

  it('takes the tracing keys of an app config and defaults the rest', () => {
    expect(tracingSettingsOf({ TRACING_ENABLED: false, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTHER: 1 })).toEqual({ ...DEFAULT_TRACING, TRACING_ENABLED: false, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' });
    expect(tracingSettingsOf(undefined)).toEqual(DEFAULT_TRACING);
  });
});

describe('span attributes', () => {
  it('never keeps credentials or task input, and bounds values', () => {
    const out = safeAttributes({ Authorization: 'Bearer sb_x', 'http.request.header.authorization': 'x', 'sb.task.input': '{}', api_key: 'k', 'sb.task.id': 't1', n: 3, ok: true, long: 'v'.repeat(1000), arr: ['a'] });
    expect(out).toEqual({ 'sb.task.id': 't1', n: 3, ok: true, long: 'v'.repeat(256) });
  });
});

describe('QuietExporter', () => {
  it('logs the first failure once, counts each, and logs the recovery', async () => {
    const lines: string[] = [];
    const log = { ...logger, warn: (o: unknown, m: string) => lines.push(`warn ${m}`), info: (o: unknown, m: string) => lines.push(`info ${m}`) } as unknown as typeof logger;
    let fail = true;
    const inner: SpanExporter = { export: (_s: ReadableSpan[], done: (r: ExportResult) => void) => done({ code: fail ? ExportResultCode.FAILED : ExportResultCode.SUCCESS }), shutdown: async () => undefined };
    let failures = 0;
    const q = new QuietExporter(inner, 'otlp', log, () => failures++);
    const results: number[] = [];
    for (let i = 0; i < 3; i++) q.export([], (r) => results.push(r.code));
    fail = false;
    q.export([], (r) => results.push(r.code));
    expect(results).toEqual([ExportResultCode.FAILED, ExportResultCode.FAILED, ExportResultCode.FAILED, ExportResultCode.SUCCESS]);
    expect(failures).toBe(3);
    expect(lines).toEqual([expect.stringMatching(/^warn span export failed/), 'info span export recovered']);
  });
});
