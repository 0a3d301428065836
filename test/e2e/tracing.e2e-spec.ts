/**
 * Distributed tracing end to end: a caller's W3C traceparent (HTTP header or NATS header)
 * continues through gateway → auth → tenancy → JetStream → the dispatcher's lease to an agent
 * (its `task.run` span covers the agent's run, and the agent is handed the traceparent to
 * continue), every service's spans land in the span stream, and GET /v1/tasks/:id/trace returns
 * the timeline with its analysis.
 */
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { natsRequest } from './support/nats-client';
import { eventually } from '@sb/testing';

jest.setTimeout(60_000);

interface Span {
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: string;
  service: string;
  agentId?: string;
  status: string;
  durationMs: number;
  attributes: Record<string, unknown>;
}

const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');
const newParent = () => ({ traceId: hex(32), spanId: hex(16) });
const traceparent = (p: { traceId: string; spanId: string }) => `00-${p.traceId}-${p.spanId}-01`;

/** Every span's parent is the caller's span or another span of the trace: one connected tree. */
function expectConnected(spans: Span[], callerSpanId: string) {
  const ids = new Set(spans.map((s) => s.spanId));
  for (const s of spans) expect([callerSpanId, ...ids]).toContain(s.parentSpanId);
  expect(spans.filter((s) => s.parentSpanId === callerSpanId).length).toBeGreaterThanOrEqual(1);
}

describe('tracing', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await startFleet({ workers: 1, env: { TRACE_EXPORT_DELAY_MS: '50' } });
  });
  afterAll(() => fleet?.stop());

  /** The trace once the worker's spans (and `until`) are in. */
  async function traceOf(key: string, taskId: string, until: (spans: Span[]) => boolean = () => true) {
    return eventually(
      async () => {
        const r = await http(fleet.httpUrl, 'GET', `/v1/tasks/${taskId}/trace`, { key });
        if (r.status !== 200) throw new Error(`trace ${r.status} ${JSON.stringify(r.body)}`);
        const spans = r.body.spans as Span[];
        if (!spans.some((s) => s.name === 'task.run') || !until(spans)) throw new Error(`incomplete trace: ${spans.map((s) => `${s.service}:${s.name}`).join(', ')}`);
        return r.body;
      },
      { timeoutMs: 15_000 },
    );
  }

  it('continues an HTTP caller trace through auth, tenancy and the agent hop, and analyses it', async () => {
    const { key } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const caller = newParent();
    const marker = `input-marker-${hex(8)}`;
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, headers: { traceparent: traceparent(caller) }, body: { capability: 'echo', input: { marker }, wait: true } });
    expect(r.status).toBe(200);
    const trace = await traceOf(key, r.body.taskId, (spans) => ['gateway', 'auth', 'tenancy'].every((svc) => spans.some((s) => s.service === svc)));
    const spans = trace.spans as Span[];

    expect(trace).toMatchObject({ taskId: r.body.taskId, traceId: caller.traceId, status: 'succeeded', attempts: 1, createdAt: r.body.createdAt, finishedAt: r.body.finishedAt });
    expectConnected(spans, caller.spanId);
    const submit = spans.find((s) => s.name === 'task.submit')!;
    expect(submit).toMatchObject({ service: 'gateway', kind: 'server', parentSpanId: caller.spanId });
    const run = spans.find((s) => s.name === 'task.run')!;
    // The agent is untrusted and exports nothing here: the dispatcher's span is the run, from lease to outcome.
    expect(run).toMatchObject({ service: 'gateway', kind: 'consumer', parentSpanId: submit.spanId, agentId: r.body.agentId });
    expect(spans.find((s) => s.name === 'task.enqueue')).toMatchObject({ service: 'gateway', kind: 'producer', parentSpanId: submit.spanId });
    // Auth and tenancy served calls the gateway made inside the submit span.
    const authServed = spans.find((s) => s.service === 'auth' && s.kind === 'server')!;
    const authCall = spans.find((s) => s.spanId === authServed.parentSpanId)!;
    expect(authCall).toMatchObject({ service: 'gateway', kind: 'client', parentSpanId: submit.spanId });
    expect(spans.some((s) => s.service === 'tenancy' && s.kind === 'server')).toBe(true);

    const a = trace.analysis;
    expect(a.attempts).toBe(1);
    expect(a.agents).toEqual([{ agentId: r.body.agentId, attempts: 1, durationMs: run.durationMs }]);
    expect(a.queuedMs).toEqual(expect.any(Number));
    expect(a.runningMs).toBe(run.durationMs);
    expect(a.totalDurationMs).toBeGreaterThanOrEqual(submit.durationMs);
    expect(a.services.map((s: { service: string }) => s.service).sort()).toEqual(['auth', 'gateway', 'tenancy']);
    const path = a.criticalPath.map((s: { spanId: string }) => s.spanId);
    expect(path[0]).toBe(submit.spanId);
    expect(path).toContain(run.spanId);
    // Never the credential or the task's input.
    const text = JSON.stringify(trace);
    expect(text).not.toContain(key);
    expect(text).not.toContain(marker);
  });

  it('continues a NATS caller trace from the traceparent header', async () => {
    const { key } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const caller = newParent();
    const r = await natsRequest(fleet.nc, `${fleet.prefix}.v1.tasks.submit`, { capability: 'echo', input: 1, wait: true }, { key, headers: { traceparent: traceparent(caller) } });
    expect(r.errorCode).toBeUndefined();
    const trace = await traceOf(key, r.body.taskId, (spans) => spans.some((s) => s.service === 'auth'));
    const spans = trace.spans as Span[];
    expect(trace.traceId).toBe(caller.traceId);
    expectConnected(spans, caller.spanId);
    const served = spans.find((s) => s.parentSpanId === caller.spanId)!;
    expect(served).toMatchObject({ service: 'gateway', kind: 'server', name: `${fleet.prefix}.v1.tasks.submit` });
    const submit = spans.find((s) => s.name === 'task.submit')!;
    expect(submit.parentSpanId).toBe(served.spanId);
    expect(spans.find((s) => s.name === 'task.run')!.parentSpanId).toBe(submit.spanId);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['gateway', 'auth', 'tenancy']));
  });

  it('starts a new trace for a request without traceparent', async () => {
    const { key } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'echo', input: 2, wait: true } });
    // The submit span ends after the run (it answers with the outcome), so it may be exported last.
    const withSubmit = (spans: Span[]) => spans.some((s) => s.name === 'task.submit');
    const trace = await traceOf(key, r.body.taskId, withSubmit);
    expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/);
    const submit = (trace.spans as Span[]).find((s) => s.name === 'task.submit')!;
    expect(submit).toMatchObject({ parentSpanId: null, kind: 'server' });
    // Over NATS too: the submit span is the trace's root.
    const n = await natsRequest(fleet.nc, `${fleet.prefix}.v1.tasks.submit`, { capability: 'echo', input: 3, wait: true }, { key });
    const viaNats = await traceOf(key, n.body.taskId, withSubmit);
    expect(viaNats.traceId).not.toBe(trace.traceId);
    expect((viaNats.spans as Span[]).find((s) => s.name === 'task.submit')).toMatchObject({ parentSpanId: null, kind: 'server', service: 'gateway' });
  });

  it('shows every attempt of a retried task', async () => {
    const { key } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    // Without wait, so the submit span ends at once and the time between attempts is visible.
    const q = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'flaky', input: { failTimes: 1 }, timeoutMs: 20_000 } });
    const r = await http(fleet.httpUrl, 'GET', `/v1/tasks/${q.body.taskId}/wait?timeoutMs=20000`, { key });
    expect(r.body).toMatchObject({ status: 'succeeded', attempts: 2 });
    const trace = await traceOf(key, r.body.taskId, (spans) => spans.filter((s) => s.name === 'task.run').length >= 2);
    const runs = (trace.spans as Span[]).filter((s) => s.name === 'task.run');
    expect(runs.map((s) => s.attributes['sb.task.attempt'])).toEqual([1, 2]);
    expect(runs.map((s) => s.status)).toEqual(['error', 'unset']);
    expect(runs[0].attributes['sb.error.code']).toBe('AGENT.FLAKY');
    expect(trace.analysis.attempts).toBe(2);
    expect(trace.analysis.agents.reduce((n: number, a: { attempts: number }) => n + a.attempts, 0)).toBe(2);
    // Waiting in the queue, and the backoff between attempts, are gaps where nothing ran.
    const gapBefore = (run: Span) => trace.analysis.gaps.find((g: { end: string }) => Math.abs(Date.parse(g.end) - Date.parse((run as Span & { start: string }).start)) <= 2);
    // Before the first run: a gap, unless the worker took the task while the gateway was still
    // finishing its reply (on a busy machine it may; then nothing lies between them at all).
    const submit = (trace.spans as (Span & { start: string; end: string })[]).find((s) => s.name === 'task.submit')!;
    const run0 = runs[0] as Span & { start: string };
    expect(gapBefore(runs[0]) ?? (Date.parse(run0.start) <= Date.parse(submit.end) ? 'overlaps submit' : undefined)).toBeDefined();
    expect(gapBefore(runs[1])).toMatchObject({ durationMs: expect.any(Number) });
    expect(gapBefore(runs[1]).durationMs).toBeGreaterThan(0);
    expect(trace.analysis.queuedMs).toBeGreaterThan(0);
    expect(trace.analysis.runningMs).toBeCloseTo(runs[0].durationMs + runs[1].durationMs, 2);
  });

  it('keeps tenants apart in a shared trace: B submitting with A’s traceparent sees none of A’s spans, nor A any of B’s', async () => {
    const a = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const b = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const caller = newParent();
    const headers = { traceparent: traceparent(caller) };
    const full = (spans: Span[]) => ['gateway', 'auth', 'tenancy'].every((svc) => spans.some((s) => s.service === svc));
    const ra = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: a.key, headers, body: { capability: 'echo', input: 'a', wait: true } });
    const aFirst = await traceOf(a.key, ra.body.taskId, full);
    // B joins A's trace over HTTP and over NATS, and reads its own task with it too.
    const rb = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: b.key, headers, body: { capability: 'echo', input: 'b', wait: true } });
    const rbNats = await natsRequest(fleet.nc, `${fleet.prefix}.v1.tasks.submit`, { capability: 'echo', input: 'b2', wait: true }, { key: b.key, headers });
    await natsRequest(fleet.nc, `${fleet.prefix}.v1.tasks.get`, { taskId: rbNats.body.taskId }, { key: b.key, headers });
    // (B's second submission finds its key and policy cached: no auth or tenancy spans of its own.)
    const bViews = [await traceOf(b.key, rb.body.taskId, full), await traceOf(b.key, rbNats.body.taskId)];
    // Every span is in the one trace now; A's view, read again, holds none of B's.
    const aView = await traceOf(a.key, ra.body.taskId);
    for (const t of [aView, ...bViews]) expect(t.traceId).toBe(caller.traceId);
    const idsOf = (t: { spans: Span[] }) => new Set(t.spans.map((s) => s.spanId));
    const aIds = idsOf(aView);
    const bIds = new Set(bViews.flatMap((t) => [...idsOf(t)]));
    expect([...aIds].filter((id) => bIds.has(id))).toEqual([]);
    expect([...idsOf(aFirst)].filter((id) => !aIds.has(id))).toEqual([]);
    const taggedTenants = (t: { spans: Span[] }) => new Set(t.spans.map((s) => s.attributes['sb.tenant.id']).filter((v) => v !== undefined));
    expect(taggedTenants(aView)).toEqual(new Set([a.tenantId]));
    for (const t of bViews) expect(taggedTenants(t)).toEqual(new Set([b.tenantId]));
    expect((aView.spans as Span[]).filter((s) => s.name === 'task.run').map((s) => s.attributes['sb.task.id'])).toEqual([ra.body.taskId]);
    expect(aView.analysis.agents).toHaveLength(1);
    expectConnected(aView.spans, caller.spanId);
  });

  it('answers 404 for another tenant’s task, 401 without a key, 400 for a bad id', async () => {
    const a = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const b = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: a.key, body: { capability: 'echo', input: 3 } });
    const other = await http(fleet.httpUrl, 'GET', `/v1/tasks/${r.body.taskId}/trace`, { key: b.key });
    expect(other.status).toBe(404);
    expect(other.body.error).toMatchObject({ code: expect.stringMatching(/NOT_FOUND/), retryable: false });
    expect((await http(fleet.httpUrl, 'GET', `/v1/tasks/${r.body.taskId}/trace`)).status).toBe(401);
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks/not%20an%20id/trace', { key: a.key })).status).toBe(400);
    // The task route itself is untouched by the trace route.
    expect((await http(fleet.httpUrl, 'GET', `/v1/tasks/${r.body.taskId}`, { key: a.key })).body.taskId).toBe(r.body.taskId);
  });
});
