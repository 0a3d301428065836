import type { Principal, StoredSpan, TaskRecord } from '@sb/contracts';
import type { SpanRead } from './span-reader';
import { TaskTraceHandler } from './task-trace.handler';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const record = (over: Partial<TaskRecord> = {}): TaskRecord => ({
  taskId: 'tsk_1',
  tenantId: 'acme',
  capability: 'echo',
  priority: 'normal',
  status: 'succeeded',
  input: { secret: 'do-not-show' },
  metadata: {},
  timeoutMs: 30_000,
  deadlineAt: '2026-01-01T00:00:30.000Z',
  errors: [],
  attempts: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  startedAt: '2026-01-01T00:00:00.040Z',
  finishedAt: '2026-01-01T00:00:00.090Z',
  traceparent: `00-${TRACE}-00f067aa0ba902b7-01`,
  ...over,
});
const span = (name: string, start: number, end: number, extra: Partial<StoredSpan> = {}): StoredSpan => ({
  traceId: TRACE,
  spanId: Math.random().toString(16).slice(2, 18).padEnd(16, '0'),
  name,
  kind: 'internal',
  service: 'gateway',
  start: Date.parse('2026-01-01T00:00:00.000Z') + start,
  end: Date.parse('2026-01-01T00:00:00.000Z') + end,
  status: 'ok',
  attributes: {},
  ...extra,
});

/** The caller the AuthGuard let through (tasks:read); its tenant scopes what it may read. */
const caller = { tenantId: 'acme', keyId: 'key_1', scopes: ['tasks:read'] } as Principal;

function handler(records: Record<string, TaskRecord>, spans: SpanRead) {
  const reads: string[] = [];
  const tasks = { get: async (tenantId: string, taskId: string) => (records[`${tenantId}.${taskId}`] ? { record: records[`${tenantId}.${taskId}`] } : undefined) };
  const reader = { read: async (traceId: string) => (reads.push(traceId), spans) };
  return { h: new TaskTraceHandler(tasks, reader, () => Date.parse('2026-01-01T00:01:00.000Z')), reads };
}

describe('TaskTraceHandler', () => {
  it('reads the spans of the task trace and analyses them with the task timestamps', async () => {
    const own = { 'sb.task.id': 'tsk_1', 'sb.tenant.id': 'acme' };
    const run = span('task.run', 40, 90, { service: 'agent-worker', kind: 'consumer', attributes: { ...own, 'sb.agent.id': 'w1' } });
    const { h, reads } = handler({ 'acme.tsk_1': record() }, { spans: [span('task.enqueue', 5, 10, { kind: 'producer', attributes: own }), run, run], truncated: false });
    const out = await h.handle(caller, 'tsk_1');
    expect(reads).toEqual([TRACE]);
    expect(out).toMatchObject({ taskId: 'tsk_1', traceId: TRACE, status: 'succeeded', attempts: 1, createdAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:00.090Z' });
    expect(out.spans.map((s) => s.name)).toEqual(['task.enqueue', 'task.run']); // a span exported twice is shown once
    expect(out.analysis).toMatchObject({ queuedMs: 30, runningMs: 50, attempts: 1, agents: [{ agentId: 'w1', attempts: 1, durationMs: 50 }], truncated: false });
    expect(JSON.stringify(out)).not.toContain('do-not-show');
  });

  it('shows only this task’s spans of the trace: not those another tenant added with the same traceparent', async () => {
    const mine = span('task.submit', 0, 10, { kind: 'server', attributes: { 'sb.task.id': 'tsk_1', 'sb.tenant.id': 'acme' } });
    const theirs = span('task.submit', 1, 11, { kind: 'server', parentSpanId: mine.parentSpanId, attributes: { 'sb.task.id': 'tsk_9', 'sb.tenant.id': 'evil' } });
    const { h } = handler({ 'acme.tsk_1': record() }, { spans: [mine, theirs], truncated: false });
    const out = await h.handle(caller, 'tsk_1');
    expect(out.spans.map((s) => s.spanId)).toEqual([mine.spanId]);
    expect(out.analysis.spanCount).toBe(1);
  });

  it('still answers from the task timestamps when the trace has no spans, and passes on truncation', async () => {
    const { h } = handler({ 'acme.tsk_1': record() }, { spans: [], truncated: true });
    const out = await h.handle(caller, 'tsk_1');
    expect(out.spans).toEqual([]);
    expect(out.analysis).toMatchObject({ totalDurationMs: 90, queuedMs: 40, runningMs: 50, truncated: true });
  });

  it('answers a record without a traceparent without reading spans', async () => {
    const { h, reads } = handler({ 'acme.tsk_1': record({ traceparent: undefined }) }, { spans: [span('x', 0, 1)], truncated: false });
    const out = await h.handle(caller, 'tsk_1');
    expect(out.traceId).toBeNull();
    expect(reads).toEqual([]);
  });

  // Credentials are refused before the handler, by the AuthGuard (auth.guard.int-spec.ts).
  it('is not found for another tenant, and validates the id', async () => {
    const { h, reads } = handler({ 'other.tsk_1': record({ tenantId: 'other' }) }, { spans: [], truncated: false });
    await expect(h.handle(caller, 'tsk_1')).rejects.toMatchObject({ status: 404 });
    await expect(h.handle(caller, 'not an id!')).rejects.toMatchObject({ status: 400 });
    expect(reads).toEqual([]);
  });
});
