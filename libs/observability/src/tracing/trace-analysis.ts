/**
 * The per-task timeline: spans of one trace plus the task's own timestamps, turned into
 * total / queued / running time, attempts, agent participation, service time, the critical
 * path and the gaps. Pure: the same spans always give the same analysis.
 */
import { SpanAttributes, SpanNames, type StoredSpan, type TraceAnalysis, type TraceGap, type TraceSegment, type TraceSpan } from '@sb/contracts';

export interface TaskTimes {
  taskId: string;
  status: string;
  attempts: number;
  createdAt: string;
  startedAt?: string | null;
  finishedAt?: string | null;
}

/** Gaps shorter than this are scheduling noise, not waiting. */
const MIN_GAP_MS = 1;

const ms = (v: number) => Math.round(v * 1000) / 1000;
const iso = (t: number) => new Date(t).toISOString();
const parse = (s: string | null | undefined) => (s ? Date.parse(s) : Number.NaN);

export function toTraceSpan(s: StoredSpan): TraceSpan {
  const out: TraceSpan = {
    spanId: s.spanId,
    parentSpanId: s.parentSpanId ?? null,
    name: s.name,
    kind: s.kind,
    service: s.service,
    start: iso(s.start),
    end: iso(s.end),
    durationMs: ms(s.end - s.start),
    status: s.status,
    attributes: s.attributes,
  };
  const agent = s.attributes[SpanAttributes.AgentId];
  if (typeof agent === 'string') out.agentId = agent;
  if (s.statusMessage) out.statusMessage = s.statusMessage;
  return out;
}

/** Start order; on a tie (span clocks tick in whole milliseconds) the longer span — the parent — first. */
const byStart = (a: StoredSpan, b: StoredSpan) => a.start - b.start || b.end - a.end;

/** Spans of one trace, each span once (a span exported twice is kept once), in start order. */
export function dedupeSpans(spans: StoredSpan[]): StoredSpan[] {
  const seen = new Map<string, StoredSpan>();
  for (const s of spans) if (!seen.has(s.spanId)) seen.set(s.spanId, s);
  return [...seen.values()].sort(byStart);
}

export function analyzeTrace(spansIn: StoredSpan[], task: TaskTimes, now: number, truncated = false): TraceAnalysis {
  const spans = dedupeSpans(spansIn);
  const ofTask = (s: StoredSpan) => {
    const id = s.attributes[SpanAttributes.TaskId];
    return id === undefined || id === task.taskId;
  };
  const runs = spans.filter((s) => s.name === SpanNames.Run && ofTask(s));
  const enqueue = spans.find((s) => s.name === SpanNames.Enqueue && ofTask(s));

  const created = parse(task.createdAt);
  const started = parse(task.startedAt);
  const finished = parse(task.finishedAt);
  const starts = spans.map((s) => s.start);
  const ends = spans.map((s) => s.end);
  if (!Number.isNaN(created)) starts.push(created);
  if (!Number.isNaN(finished)) ends.push(finished);
  const begin = starts.length ? Math.min(...starts) : now;
  const end = ends.length ? Math.max(...ends) : now;

  const queuedFrom = enqueue ? enqueue.end : created;
  const firstRun = runs.length ? runs[0].start : started;
  let queuedMs: number | null = null;
  if (!Number.isNaN(queuedFrom) && !Number.isNaN(firstRun)) queuedMs = ms(Math.max(0, firstRun - queuedFrom));
  else if (!Number.isNaN(queuedFrom) && task.status === 'queued') queuedMs = ms(Math.max(0, now - queuedFrom));

  let runningMs: number | null = null;
  if (runs.length) runningMs = ms(runs.reduce((t, s) => t + (s.end - s.start), 0));
  else if (!Number.isNaN(started) && !Number.isNaN(finished)) runningMs = ms(Math.max(0, finished - started));

  const agents = new Map<string, { agentId: string; attempts: number; durationMs: number }>();
  for (const r of runs) {
    const id = String(r.attributes[SpanAttributes.AgentId] ?? 'unknown');
    const a = agents.get(id) ?? { agentId: id, attempts: 0, durationMs: 0 };
    a.attempts++;
    a.durationMs = ms(a.durationMs + (r.end - r.start));
    agents.set(id, a);
  }

  return {
    totalDurationMs: ms(Math.max(0, end - begin)),
    queuedMs,
    runningMs,
    attempts: Math.max(task.attempts, runs.length),
    agents: [...agents.values()],
    services: serviceTimes(spans),
    criticalPath: criticalPath(spans),
    gaps: gaps(spans),
    spanCount: spans.length,
    truncated,
  };
}

/** Busy wall time per service: the union of its spans' intervals, so nested spans count once. */
export function serviceTimes(spans: StoredSpan[]): TraceAnalysis['services'] {
  const by = new Map<string, StoredSpan[]>();
  for (const s of spans) by.set(s.service, [...(by.get(s.service) ?? []), s]);
  return [...by].map(([service, list]) => ({ service, spans: list.length, durationMs: ms(union(list).reduce((t, [a, b]) => t + (b - a), 0)) }));
}

function union(spans: StoredSpan[]): [number, number][] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const out: [number, number][] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.start <= last[1]) last[1] = Math.max(last[1], s.end);
    else out.push([s.start, s.end]);
  }
  return out;
}

/** Where no span was open between the trace's first start and last end. */
export function gaps(spans: StoredSpan[]): TraceGap[] {
  const sorted = [...spans].sort(byStart);
  const out: TraceGap[] = [];
  let reach = Number.NEGATIVE_INFINITY;
  let lastEnder: StoredSpan | undefined;
  for (const s of sorted) {
    if (lastEnder && s.start - reach >= MIN_GAP_MS) {
      out.push({ start: iso(reach), end: iso(s.start), durationMs: ms(s.start - reach), after: lastEnder.name, before: s.name });
    }
    if (s.end > reach) {
      reach = s.end;
      lastEnder = s;
    }
  }
  return out;
}

/**
 * The chain of spans that determines end-to-end latency. A span's effective end includes its
 * descendants (a queued task's run finishes long after the submit span that caused it). From
 * the root that ends last, walk back in time: the child that ends last is on the path, then the
 * child that ends last before that one started, and so on, recursively.
 */
export function criticalPath(spans: StoredSpan[]): TraceSegment[] {
  if (spans.length === 0) return [];
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const children = new Map<string, StoredSpan[]>();
  const roots: StoredSpan[] = [];
  for (const s of spans) {
    if (s.parentSpanId && byId.has(s.parentSpanId) && s.parentSpanId !== s.spanId) {
      children.set(s.parentSpanId, [...(children.get(s.parentSpanId) ?? []), s]);
    } else roots.push(s);
  }
  const effEnd = new Map<string, number>();
  const visiting = new Set<string>();
  const eff = (s: StoredSpan): number => {
    const known = effEnd.get(s.spanId);
    if (known !== undefined) return known;
    if (visiting.has(s.spanId)) return s.end; // a cycle in bad data: stop here
    visiting.add(s.spanId);
    const v = Math.max(s.end, ...(children.get(s.spanId) ?? []).map(eff));
    effEnd.set(s.spanId, v);
    return v;
  };
  const path: StoredSpan[] = [];
  const onPath = new Set<string>();
  const walk = (s: StoredSpan) => {
    if (onPath.has(s.spanId)) return;
    onPath.add(s.spanId);
    path.push(s);
    let cursor = eff(s);
    const kids = [...(children.get(s.spanId) ?? [])].sort((a, b) => eff(b) - eff(a));
    for (const k of kids) {
      if (eff(k) > cursor) continue;
      walk(k);
      cursor = k.start;
    }
  };
  // The root whose subtree ends last sets the end; earlier roots that finished before it started join the chain.
  const rootsByEnd = [...roots].sort((a, b) => eff(b) - eff(a));
  let cursor = Number.POSITIVE_INFINITY;
  for (const r of rootsByEnd) {
    if (eff(r) > cursor) continue;
    walk(r);
    cursor = r.start;
  }
  return path
    .sort(byStart)
    .map((s) => ({ spanId: s.spanId, name: s.name, service: s.service, start: iso(s.start), end: iso(s.end), durationMs: ms(s.end - s.start) }));
}
