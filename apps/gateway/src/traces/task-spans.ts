/**
 * Which spans of a trace belong to one task. The trace id is the caller's (a submission continues
 * its `traceparent`), so whoever knows it can add spans to the same trace: another tenant
 * submitting or reading with the same `traceparent`, or with a parent span id it copied. The
 * span stream is keyed by trace id only, so the task's view is cut out of the trace here:
 *
 * - the task's own spans: tagged by the gateway with the task's id and tenant
 *   (`sb.task.id`, `sb.tenant.id`; set from the task it created and the authenticated caller,
 *   never from input): the submission, the enqueue, every run;
 * - the in-process parent of such a span when it is `internal` (over NATS, the server span the
 *   bus opened for that same message: an `internal` span is a child of the active span, which
 *   no caller can name);
 * - everything below those through parent links (the calls they made: auth, tenancy, ...),
 *   except a span tagged with another task or tenant, and a `server` span whose parent is not a
 *   `client` span: every call the platform makes goes out in a client span, so a server span
 *   under anything else is a request from outside that named its parent itself. Either is left
 *   out with everything below it.
 *
 * Spans above the task (the caller's, a sibling request's) are never shown.
 */
import { SpanAttributes, type StoredSpan } from '@sb/contracts';

export interface TaskIdentity {
  taskId: string;
  tenantId: string;
}

type Tag = 'own' | 'foreign' | 'none';

function tagOf(s: StoredSpan, task: TaskIdentity): Tag {
  const taskId = s.attributes[SpanAttributes.TaskId];
  const tenantId = s.attributes[SpanAttributes.TenantId];
  if (taskId === undefined && tenantId === undefined) return 'none';
  return taskId === task.taskId && tenantId === task.tenantId ? 'own' : 'foreign';
}

export function spansOfTask(spans: StoredSpan[], task: TaskIdentity): StoredSpan[] {
  const byId = new Map<string, StoredSpan>();
  const children = new Map<string, StoredSpan[]>();
  for (const s of spans) {
    byId.set(s.spanId, s);
    if (s.parentSpanId) children.set(s.parentSpanId, [...(children.get(s.parentSpanId) ?? []), s]);
  }
  const keep = new Set<string>();
  const below = (parent: StoredSpan, child: StoredSpan) => tagOf(child, task) !== 'foreign' && (child.kind !== 'server' || parent.kind === 'client');
  const walk = (root: StoredSpan) => {
    const stack = [root];
    while (stack.length) {
      const s = stack.pop()!;
      if (keep.has(s.spanId)) continue;
      keep.add(s.spanId);
      for (const c of children.get(s.spanId) ?? []) if (below(s, c)) stack.push(c);
    }
  };
  for (const s of spans) {
    if (tagOf(s, task) !== 'own') continue;
    walk(s);
    const parent = s.kind === 'internal' && s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
    if (parent && tagOf(parent, task) !== 'foreign') keep.add(parent.spanId);
  }
  return spans.filter((s) => keep.has(s.spanId));
}
