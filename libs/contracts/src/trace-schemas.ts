/**
 * Tracing on the wire: the span batches services write to the span stream
 * (`<prefix>.spans.<traceId>`) and the reply of GET /v1/tasks/:id/trace.
 */
import { z } from 'zod';

export const TRACE_ID_PATTERN = /^[0-9a-f]{32}$/;
export const SPAN_ID_PATTERN = /^[0-9a-f]{16}$/;

const attributeValue = z.union([z.string(), z.number(), z.boolean()]);

/** One finished span as stored. Times are epoch milliseconds (fractional). */
export const StoredSpanSchema = z.object({
  traceId: z.string().regex(TRACE_ID_PATTERN),
  spanId: z.string().regex(SPAN_ID_PATTERN),
  parentSpanId: z.string().regex(SPAN_ID_PATTERN).optional(),
  name: z.string().max(256),
  kind: z.enum(['internal', 'server', 'client', 'producer', 'consumer']),
  service: z.string().max(64),
  start: z.number(),
  end: z.number(),
  status: z.enum(['unset', 'ok', 'error']),
  statusMessage: z.string().max(512).optional(),
  attributes: z.record(z.string(), attributeValue).default({}),
});
export type StoredSpan = z.infer<typeof StoredSpanSchema>;

/** One message on the span stream: the spans of one trace that one service finished in one export batch. */
export const SpanBatchSchema = z.object({ spans: z.array(StoredSpanSchema).max(10_000) });
export type SpanBatch = z.infer<typeof SpanBatchSchema>;

/** Span attribute names Switchboard sets (never credentials or task input). */
export const SpanAttributes = {
  TaskId: 'sb.task.id',
  TenantId: 'sb.tenant.id',
  Capability: 'sb.task.capability',
  Attempt: 'sb.task.attempt',
  AgentId: 'sb.agent.id',
  AgentName: 'sb.agent.name',
  Subject: 'messaging.destination.name',
  ErrorCode: 'sb.error.code',
  Transport: 'sb.transport',
} as const;

/** Span names the timeline analysis recognises. */
export const SpanNames = {
  Submit: 'task.submit',
  Enqueue: 'task.enqueue',
  Run: 'task.run',
} as const;

export interface TraceSpan {
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: StoredSpan['kind'];
  service: string;
  agentId?: string;
  start: string;
  end: string;
  durationMs: number;
  status: StoredSpan['status'];
  statusMessage?: string;
  attributes: Record<string, string | number | boolean>;
}

export interface TraceSegment {
  spanId: string;
  name: string;
  service: string;
  start: string;
  end: string;
  durationMs: number;
}

export interface TraceGap {
  start: string;
  end: string;
  durationMs: number;
  /** The span that ended just before the gap, and the one that started it again. */
  after: string | null;
  before: string | null;
}

export interface TraceAnalysis {
  /** From the first span's start (or the task's creation) to the last span's end (or the task's finish). */
  totalDurationMs: number;
  /** From the enqueue (or creation) to the first run start. */
  queuedMs: number | null;
  /** Time in task.run spans (all attempts), or startedAt→finishedAt without spans. */
  runningMs: number | null;
  attempts: number;
  agents: { agentId: string; attempts: number; durationMs: number }[];
  /** Wall time each service was busy in this trace (overlapping spans counted once). */
  services: { service: string; spans: number; durationMs: number }[];
  /** The chain of spans that determines end-to-end latency, in time order. */
  criticalPath: TraceSegment[];
  /** Stretches inside the trace where no span was open (e.g. a task waiting in the queue). */
  gaps: TraceGap[];
  spanCount: number;
  /** True when the span read stopped at its bound (count or time): the analysis may be partial. */
  truncated: boolean;
}

export interface TaskTraceReply {
  taskId: string;
  traceId: string | null;
  status: string;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  spans: TraceSpan[];
  analysis: TraceAnalysis;
}
