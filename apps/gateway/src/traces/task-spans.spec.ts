/**
 * Two tenants in one trace: B submits (and reads) with A's traceparent, and even names spans of
 * A's as parents. Each task's view holds its own spans and the calls they made, nothing of the other's.
 */
import type { StoredSpan } from '@sb/contracts';
import { spansOfTask } from './task-spans';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
let next = 0;
const id = () => (++next).toString(16).padStart(16, '0');
const CALLER = 'c0ffeec0ffeec0ff'; // the client's span: never stored
const A = { taskId: 'tsk_a', tenantId: 'tenant_a' };
const B = { taskId: 'tsk_b', tenantId: 'tenant_b' };
const tags = (t: { taskId: string; tenantId: string }) => ({ 'sb.task.id': t.taskId, 'sb.tenant.id': t.tenantId });

function span(name: string, kind: StoredSpan['kind'], parent: StoredSpan | string | undefined, service = 'gateway', attributes: StoredSpan['attributes'] = {}): StoredSpan {
  return { traceId: TRACE, spanId: id(), parentSpanId: typeof parent === 'string' ? parent : parent?.spanId, name, kind, service, start: next, end: next + 1, status: 'unset', attributes };
}

/** A NATS submission as the gateway traces it: served span, submit span (tagged), calls to auth and tenancy, enqueue, run. */
function natsSubmission(task: { taskId: string; tenantId: string }, callerSpan: string) {
  const served = span('sb.v1.tasks.submit', 'server', callerSpan, 'gateway', { 'messaging.destination.name': 'sb.v1.tasks.submit' });
  const submit = span('task.submit', 'internal', served, 'gateway', tags(task));
  const authCall = span('sb.internal.auth.authorize', 'client', submit);
  const authServed = span('sb.internal.auth.authorize', 'server', authCall, 'auth');
  const policyCall = span('sb.internal.tenancy.policy', 'client', submit);
  const policyServed = span('sb.internal.tenancy.policy', 'server', policyCall, 'tenancy');
  const enqueue = span('task.enqueue', 'producer', submit, 'gateway', tags(task));
  const run = span('task.run', 'consumer', submit, 'gateway', { ...tags(task), 'sb.task.attempt': 1 });
  return { served, submit, authCall, authServed, policyCall, policyServed, enqueue, run, all: [served, submit, authCall, authServed, policyCall, policyServed, enqueue, run] };
}

const ids = (spans: StoredSpan[]) => spans.map((s) => s.spanId).sort();

describe('spansOfTask', () => {
  const a = natsSubmission(A, CALLER);
  // B sends A's traceparent: its spans are siblings of A's in the same trace.
  const b = natsSubmission(B, CALLER);
  // B names spans of A's as parents (ids it could only have copied): an HTTP submission under A's
  // submit span, a NATS read under A's run and a direct call to auth under A's submit span.
  const bHttp = span('task.submit', 'server', a.submit, 'gateway', { ...tags(B), 'sb.transport': 'http' });
  const bHttpAuth = span('sb.internal.auth.authorize', 'client', bHttp);
  const bRead = span('sb.v1.tasks.get', 'server', a.run);
  const bReadAuth = span('sb.internal.auth.authorize', 'client', bRead);
  const bReadAuthServed = span('sb.internal.auth.authorize', 'server', bReadAuth, 'auth');
  const bDirect = span('sb.internal.auth.authorize', 'server', a.submit, 'auth');
  const trace = [...a.all, ...b.all, bHttp, bHttpAuth, bRead, bReadAuth, bReadAuthServed, bDirect];
  const ofB = [...b.all, bHttp, bHttpAuth, bRead, bReadAuth, bReadAuthServed, bDirect].map((s) => s.spanId);

  it('A’s view: A’s spans and the calls they made, none of B’s', () => {
    const view = spansOfTask(trace, A);
    expect(ids(view)).toEqual(ids(a.all));
    expect(view.filter((s) => ofB.includes(s.spanId))).toEqual([]);
  });

  it('B’s view: B’s own submission, none of A’s', () => {
    const view = spansOfTask(trace, B);
    expect(ids(view)).toEqual(ids([...b.all, bHttp, bHttpAuth]));
    expect(view.filter((s) => a.all.some((x) => x.spanId === s.spanId))).toEqual([]);
  });

  it('a span must carry both the task id and its tenant to count as the task’s', () => {
    const forged = span('task.run', 'consumer', undefined, 'gateway', { 'sb.task.id': A.taskId, 'sb.tenant.id': B.tenantId });
    const half = span('task.run', 'consumer', undefined, 'gateway', { 'sb.task.id': A.taskId });
    expect(ids(spansOfTask([...a.all, forged, half], A))).toEqual(ids(a.all));
  });

  it('never climbs above the task: an HTTP submission’s parent is the caller’s, even when it names a stored span', () => {
    const httpSubmit = span('task.submit', 'server', b.served, 'gateway', tags(A));
    expect(ids(spansOfTask([...b.all, httpSubmit], A))).toEqual([httpSubmit.spanId]);
  });

  it('is empty for a task with no spans in the trace', () => {
    expect(spansOfTask(b.all, A)).toEqual([]);
  });
});
