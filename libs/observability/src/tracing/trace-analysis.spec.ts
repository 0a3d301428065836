import type { StoredSpan } from '@sb/contracts';
import { analyzeTrace, criticalPath, dedupeSpans, gaps, serviceTimes, toTraceSpan } from './trace-analysis';

const T = 'a'.repeat(32);
const BASE = Date.parse('2026-01-01T00:00:00.000Z');
let n = 0;
function span(name: string, service: string, start: number, end: number, parent?: StoredSpan, attributes: StoredSpan['attributes'] = {}): StoredSpan {
  const s: StoredSpan = {
    traceId: T,
    spanId: (++n).toString(16).padStart(16, '0'),
    name,
    kind: 'internal',
    service,
    start: BASE + start,
    end: BASE + end,
    status: 'ok',
    attributes,
  };
  if (parent) s.parentSpanId = parent.spanId;
  return s;
}
const at = (ms: number) => new Date(BASE + ms).toISOString();

/** A submitted task that failed once on agent w1 and succeeded on w2 (retry after backoff). */
function retriedTask() {
  const submit = span('task.submit', 'gateway', 0, 12);
  const authz = span('sb.internal.auth.authorize', 'gateway', 1, 4, submit);
  const authServe = span('sb.internal.auth.authorize', 'auth', 2, 3, authz);
  const enqueue = span('task.enqueue', 'gateway', 6, 11, submit, { 'sb.task.id': 't1' });
  const run1 = span('task.run', 'agent-worker', 40, 60, submit, { 'sb.task.id': 't1', 'sb.agent.id': 'w1', 'sb.task.attempt': 1 });
  const slots = span('sb.internal.tenancy.slots', 'agent-worker', 41, 45, run1);
  const slotsServe = span('sb.internal.tenancy.slots', 'tenancy', 42, 44, slots);
  const run2 = span('task.run', 'agent-worker', 300, 400, submit, { 'sb.task.id': 't1', 'sb.agent.id': 'w2', 'sb.task.attempt': 2 });
  const publish = span('publish', 'agent-worker', 398, 399, run2);
  return { submit, authz, authServe, enqueue, run1, slots, slotsServe, run2, publish, all: [submit, authz, authServe, enqueue, run1, slots, slotsServe, run2, publish] };
}

describe('trace analysis', () => {
  it('splits queued and running time and counts attempts per agent', () => {
    const t = retriedTask();
    const a = analyzeTrace(t.all, { taskId: 't1', status: 'succeeded', attempts: 2, createdAt: at(5), startedAt: at(300), finishedAt: at(401) }, BASE + 1e6);
    expect(a.totalDurationMs).toBe(401);
    expect(a.queuedMs).toBe(29); // enqueue ended at 11, first run started at 40
    expect(a.runningMs).toBe(120); // 20 + 100
    expect(a.attempts).toBe(2);
    expect(a.agents).toEqual([
      { agentId: 'w1', attempts: 1, durationMs: 20 },
      { agentId: 'w2', attempts: 1, durationMs: 100 },
    ]);
    expect(a.spanCount).toBe(9);
    expect(a.truncated).toBe(false);
  });

  it('falls back to the task timestamps when the trace was sampled out', () => {
    const a = analyzeTrace([], { taskId: 't1', status: 'succeeded', attempts: 1, createdAt: at(0), startedAt: at(30), finishedAt: at(80) }, BASE + 1e6);
    expect(a).toMatchObject({ totalDurationMs: 80, queuedMs: 30, runningMs: 50, attempts: 1, agents: [], criticalPath: [], gaps: [] });
  });

  it('reports a still-queued task as queued until now', () => {
    const a = analyzeTrace([], { taskId: 't1', status: 'queued', attempts: 0, createdAt: at(0) }, BASE + 250);
    expect(a.queuedMs).toBe(250);
    expect(a.runningMs).toBeNull();
    expect(a.totalDurationMs).toBe(250);
  });

  it('ignores run spans of other tasks that share the trace', () => {
    const submit = span('task.submit', 'gateway', 0, 5);
    const mine = span('task.run', 'agent-worker', 10, 20, submit, { 'sb.task.id': 't1', 'sb.agent.id': 'w1' });
    const other = span('task.run', 'agent-worker', 10, 90, submit, { 'sb.task.id': 't2', 'sb.agent.id': 'w9' });
    const a = analyzeTrace([submit, mine, other], { taskId: 't1', status: 'succeeded', attempts: 1, createdAt: at(0) }, BASE);
    expect(a.attempts).toBe(1);
    expect(a.agents.map((x) => x.agentId)).toEqual(['w1']);
  });

  it('follows the critical path across the asynchronous hand-off to the worker', () => {
    const t = retriedTask();
    const path = criticalPath(t.all).map((s) => s.spanId);
    // The second run ends last; before it the first run (with its slot call), before that the enqueue, before that authorization.
    expect(path).toEqual([t.submit, t.authz, t.authServe, t.enqueue, t.run1, t.slots, t.slotsServe, t.run2, t.publish].map((s) => s.spanId));
  });

  it('leaves off spans that overlap a later one on the path', () => {
    const root = span('root', 'gateway', 0, 100);
    const long = span('long', 'gateway', 10, 90, root);
    const overlapped = span('overlapped', 'gateway', 20, 50, root); // ends inside `long`, so it does not set the end
    const early = span('early', 'gateway', 2, 8, root);
    const path = criticalPath([root, long, overlapped, early]).map((s) => s.name);
    expect(path).toEqual(['root', 'early', 'long']);
  });

  it('handles orphans and cycles in bad data without looping', () => {
    const a = span('a', 'x', 0, 10);
    const b = span('b', 'x', 1, 5, a);
    a.parentSpanId = b.spanId; // cycle
    const orphan = span('orphan', 'y', 20, 30);
    orphan.parentSpanId = 'f'.repeat(16);
    expect(() => criticalPath([a, b, orphan])).not.toThrow();
    expect(criticalPath([orphan]).map((s) => s.name)).toEqual(['orphan']);
  });

  it('finds the gaps where nothing was open', () => {
    const t = retriedTask();
    const g = gaps(t.all);
    expect(g.map((x) => [x.after, x.before, x.durationMs])).toEqual([
      ['task.submit', 'task.run', 28],
      ['task.run', 'task.run', 240],
    ]);
  });

  it('puts a parent before a child that started in the same millisecond', () => {
    const before = span('task.submit', 'gateway', 0, 5);
    const run = span('task.run', 'agent-worker', 50, 90, before);
    const child = span('tenancy.slots', 'agent-worker', 50, 52, run);
    expect(dedupeSpans([child, run, before]).map((s) => s.name)).toEqual(['task.submit', 'task.run', 'tenancy.slots']);
    expect(gaps([child, run, before])).toEqual([expect.objectContaining({ after: 'task.submit', before: 'task.run', durationMs: 45 })]);
  });

  it('counts each service busy time once for nested spans', () => {
    const t = retriedTask();
    const by = Object.fromEntries(serviceTimes(t.all).map((s) => [s.service, s]));
    expect(by.gateway).toEqual({ service: 'gateway', spans: 3, durationMs: 12 });
    expect(by['agent-worker']).toEqual({ service: 'agent-worker', spans: 4, durationMs: 120 });
    expect(by.tenancy.durationMs).toBe(2);
    expect(by.auth.durationMs).toBe(1);
  });

  it('keeps each span once and renders it with the agent id', () => {
    const t = retriedTask();
    expect(dedupeSpans([...t.all, t.run1])).toHaveLength(9);
    expect(toTraceSpan(t.run2)).toMatchObject({ agentId: 'w2', parentSpanId: t.submit.spanId, durationMs: 100, start: at(300), end: at(400) });
    expect(toTraceSpan(t.submit).parentSpanId).toBeNull();
  });
});
