/** OTLP/HTTP export to a local collector stand-in (node:http on port 0), and a dead collector failing quietly. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '@sb/testing';
import type { AppLogger } from '../logger';
import { createLogger } from '../logger';
import { DEFAULT_TRACING, ServiceTracer } from './service-tracer';

interface Received {
  url: string;
  contentType: string;
  body: { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: { name: string; traceId: string; parentSpanId?: string }[] }[] }[] };
}

function collector(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      received.push({ url: req.url ?? '', contentType: String(req.headers['content-type']), body: JSON.parse(data) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received })));
}

describe('OTLP/HTTP export', () => {
  it('posts batched spans with the service name when OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
    const c = await collector();
    const tracer = new ServiceTracer('auth', { ...DEFAULT_TRACING, OTEL_EXPORTER_OTLP_ENDPOINT: `${c.url}/`, TRACE_EXPORT_DELAY_MS: 20 }, createLogger('auth', 'silent'));
    try {
      await tracer.inSpan('authorize', { kind: 'server', parent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }, async () => {
        await tracer.inSpan('lookup', {}, async () => undefined);
      });
      const got = await eventually(async () => {
        const spans = c.received.flatMap((r) => r.body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans)));
        if (spans.length < 2) throw new Error('not yet');
        return spans;
      });
      expect(c.received[0].url).toBe('/v1/traces');
      expect(c.received[0].contentType).toContain('application/json');
      const service = c.received[0].body.resourceSpans[0].resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
      expect(service).toBe('auth');
      expect(got.map((s) => s.name).sort()).toEqual(['authorize', 'lookup']);
      // Two spans, one POST: batched, not one request per span.
      expect(c.received).toHaveLength(1);
    } finally {
      await tracer.shutdown();
      c.server.close();
    }
  });

  it('does not post anything without an endpoint', async () => {
    const c = await collector();
    const tracer = new ServiceTracer('auth', { ...DEFAULT_TRACING, TRACE_EXPORT_DELAY_MS: 20 }, createLogger('auth', 'silent'));
    await tracer.inSpan('x', {}, async () => undefined);
    await tracer.flush();
    await tracer.shutdown();
    expect(c.received).toHaveLength(0);
    c.server.close();
  });

  it('never fails the traced work when the collector is down, and warns once', async () => {
    const c = await collector();
    const url = c.url;
    await new Promise((r) => c.server.close(r)); // nothing listens there now
    const warnings: string[] = [];
    const logger = createLogger('auth', 'silent');
    const spy = { ...logger, warn: (_o: unknown, m: string) => void warnings.push(m), info: () => undefined } as unknown as AppLogger;
    const tracer = new ServiceTracer('auth', { ...DEFAULT_TRACING, OTEL_EXPORTER_OTLP_ENDPOINT: url, TRACE_EXPORT_DELAY_MS: 10 }, spy);
    // The work finishes at once: export happens later, off the request path.
    for (let i = 0; i < 3; i++) await expect(tracer.inSpan('work', {}, async () => i)).resolves.toBe(i);
    await tracer.flush(); // the exporter gives up after its own retries and timeout
    for (let i = 0; i < 3; i++) await tracer.inSpan('more', {}, async () => i);
    await tracer.flush();
    expect(warnings).toEqual([expect.stringMatching(/span export failed/)]);
    await tracer.shutdown();
  }, 30_000);
});
