/** Trace context across the bus against real NATS, and spans landing in the span stream. */
import { Controller, Inject, type INestApplication, Module, type Type } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { headers } from '@nats-io/nats-core';
import { Endpoints, Headers, names, type ParsedReqOf, SpanBatchSchema, type StoredSpan, TenancyEndpoints } from '@sb/contracts';
import { createLogger, createServiceApp, parseTraceparent, ServiceTracer } from '@sb/observability';
import { cleanupJetStream, eventually, testEnv, uniquePrefix, waitForMessage } from '@sb/testing';
import { Bus } from './bus';
import { coreImports } from './core-imports';
import { NatsClient } from './nats-client';
import { contract } from './transport/contract.pipe';
import type { SbContext } from './transport/sb-context';

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
jest.setTimeout(30_000);

/** What the served handlers saw. */
const seen: { header?: string; active?: string; usage: (string | undefined)[] } = { usage: [] };

@Controller()
class TenancyProbe {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(ServiceTracer) private readonly tracer: ServiceTracer,
  ) {}

  @MessagePattern(Endpoints.getTenant)
  get(@Payload(contract(Endpoints.getTenant)) req: ParsedReqOf<typeof Endpoints.getTenant>, @Ctx() ctx: SbContext) {
    seen.header = ctx.header(Headers.TraceParent);
    seen.active = this.tracer.activeTraceparent();
    this.bus.publish(`${this.bus.names.prefix}.test.announce`, { id: req.id });
    return { id: req.id, name: 'n', plan: 'free', status: 'active' as const, createdAt: 'x', updatedAt: 'x' };
  }

  @MessagePattern(TenancyEndpoints.usage)
  usage() {
    seen.usage.push(this.tracer.activeTraceparent());
    throw new Error('secret internals');
  }
}

@Module({})
class ProbeModule {}

async function boot(service: string, prefix: string, exportDelayMs = 20, controllers: Type[] = []): Promise<INestApplication> {
  const logger = createLogger(service, 'silent');
  const config = { NATS_URL: testEnv().natsUrl, SB_PREFIX: prefix, REQUEST_TIMEOUT_MS: 2000, TRACE_EXPORT_DELAY_MS: exportDelayMs };
  const { app } = await createServiceApp({
    service,
    config: { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: 5_000 },
    module: () => ({ module: ProbeModule, imports: coreImports(service, config, logger), controllers }),
    logger,
  });
  await app.init();
  return app;
}

/** Every span stored for a trace so far. */
async function storedSpans(client: NatsClient, traceId: string): Promise<StoredSpan[]> {
  const n = client.names;
  const consumer = await client.js.consumers.get(n.spans.stream, { filter_subjects: n.spans.subject(traceId) });
  const out: StoredSpan[] = [];
  for (;;) {
    const m = await consumer.next({ expires: 1000 });
    if (!m) return out;
    out.push(...SpanBatchSchema.parse(JSON.parse(new TextDecoder().decode(m.data))).spans);
    if (m.info.pending === 0) return out;
  }
}

describe('tracing over the bus', () => {
  const prefix = uniquePrefix();
  let caller: INestApplication;
  let server: INestApplication;

  beforeAll(async () => {
    server = await boot('tenancy', prefix, 20, [TenancyProbe]);
    caller = await boot('gateway', prefix);
  });
  afterAll(async () => {
    await cleanupJetStream(caller.get(NatsClient).nc, prefix);
    await caller.close();
    await server.close();
  });

  it('carries traceparent through request, serve and publish, with a span for each call in the span stream', async () => {
    const announced = waitForMessage(caller.get(NatsClient).nc, `${prefix}.test.announce`, { timeoutMs: 5000 });
    await announced.ready;
    const tracer = caller.get(ServiceTracer);
    let callerSpanId = '';
    await tracer.inSpan('caller', { parent: PARENT }, async (s) => {
      callerSpanId = s.spanContext().spanId;
      await caller.get(Bus).request(Endpoints.getTenant, { id: 'a' });
    });
    const msg = await announced;

    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const sent = parseTraceparent(seen.header)!;
    expect(sent.traceId).toBe(traceId);
    expect(sent.spanId).not.toBe(callerSpanId); // the client span, a child of the caller
    expect(parseTraceparent(seen.active)!.traceId).toBe(traceId);
    expect(parseTraceparent(msg.headers?.get(Headers.TraceParent))!.traceId).toBe(traceId);

    const subject = names(prefix).internal.tenantsGet;
    const spans = await eventually(async () => {
      const all = await storedSpans(caller.get(NatsClient), traceId);
      if (all.length < 3) throw new Error(`only ${all.length} spans so far`);
      return all;
    }, { timeoutMs: 15_000 });
    const by = (name: string, service: string) => spans.find((s) => s.name === name && s.service === service)!;
    const root = by('caller', 'gateway');
    const client = by(subject, 'gateway');
    const served = by(subject, 'tenancy');
    expect(root.parentSpanId).toBe('00f067aa0ba902b7');
    expect(client).toMatchObject({ kind: 'client', parentSpanId: root.spanId, spanId: sent.spanId });
    expect(served).toMatchObject({ kind: 'server', parentSpanId: client.spanId });
    // A publish inside a span carries that span's context (no span of its own: publishes are frequent and cheap).
    expect(parseTraceparent(msg.headers?.get(Headers.TraceParent))!.spanId).toBe(served.spanId);
    expect(spans).toHaveLength(3);
    for (const s of spans) expect(s.traceId).toBe(traceId);
  });

  it('serves a request outside any trace without a span, and marks a failed traced one', async () => {
    const usageSeen = seen.usage;
    const nc = caller.get(NatsClient).nc;
    const body = new TextEncoder().encode(JSON.stringify({ id: 'acme' }));
    const untraced = await nc.request(names(prefix).internal.tenantsUsage, body, { timeout: 2000 });
    expect(untraced.headers?.get('Nats-Service-Error-Code')).toBe('500');
    expect(usageSeen).toEqual([undefined]);
    const h = headers();
    h.set(Headers.TraceParent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    const traced = await nc.request(names(prefix).internal.tenantsUsage, body, { timeout: 2000, headers: h });
    expect(traced.headers?.get('Nats-Service-Error-Code')).toBe('500');
    const traceId = parseTraceparent(usageSeen[1])!.traceId;
    expect(traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    const [span] = await eventually(async () => {
      const all = await storedSpans(caller.get(NatsClient), traceId);
      if (all.length === 0) throw new Error('no span yet');
      return all;
    }, { timeoutMs: 15_000 });
    expect(span).toMatchObject({ service: 'tenancy', kind: 'server', status: 'error', statusMessage: 'INTERNAL' });
    expect(span.parentSpanId).toBe('b7ad6b7169203331');
    expect(JSON.stringify(span)).not.toContain('secret');
  });

  it('flushes batched spans when the service shuts down, before its connection drains', async () => {
    const app = await boot('recovery', prefix, 60_000); // the batch would otherwise wait a minute
    await app.get(ServiceTracer).inSpan('last-words', { parent: '00-11111111111111111111111111111111-2222222222222222-01' }, async () => undefined);
    await app.close();
    const spans = await eventually(async () => {
      const all = await storedSpans(caller.get(NatsClient), '11111111111111111111111111111111');
      if (all.length === 0) throw new Error('not stored');
      return all;
    }, { timeoutMs: 15_000 });
    expect(spans).toEqual([expect.objectContaining({ name: 'last-words', service: 'recovery', parentSpanId: '2222222222222222' })]);
  });
});
