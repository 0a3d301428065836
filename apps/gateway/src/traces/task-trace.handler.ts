/**
 * GET /v1/tasks/:id/trace: the tenant's task record (another tenant's task is "not found"),
 * its trace id from the stored traceparent, the trace's spans from the span stream cut down to
 * this task's own (task-spans.ts: a trace id is the caller's, so others can add to the trace),
 * and the analysis. The task's own timestamps are always included, so the timeline says
 * something even when the trace was sampled out.
 */
import { NotFoundError, type Principal, TaskIdRequestSchema, type TaskRecord, type TaskTraceReply } from '@sb/contracts';
import { validate } from '@sb/messaging';
import { analyzeTrace, dedupeSpans, parseTraceparent, toTraceSpan } from '@sb/observability';
import { tenantInScope } from '../auth/tenant-scope';
import type { SpanReaderPort } from './span-reader';
import { spansOfTask } from './task-spans';

export interface TaskRecordPort {
  get(tenantId: string, taskId: string): Promise<{ record: TaskRecord } | undefined>;
}

export class TaskTraceHandler {
  constructor(
    private readonly tasks: TaskRecordPort,
    private readonly spans: SpanReaderPort,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The caller's own task's trace (reading it needs tasks:read or tasks:submit, checked by the
   * adapter's guard); a platform admin may name another tenant's (`tenantId`).
   */
  async handle(principal: Principal, id: unknown, tenantId?: string): Promise<TaskTraceReply> {
    const taskId = validate(TaskIdRequestSchema, { taskId: id }).taskId;
    return this.trace(tenantInScope(principal, tenantId), taskId);
  }

  async trace(tenantId: string, taskId: string): Promise<TaskTraceReply> {
    const stored = await this.tasks.get(tenantId, taskId);
    if (!stored) throw new NotFoundError(`Task ${taskId} not found`);
    const r = stored.record;
    const traceId = parseTraceparent(r.traceparent)?.traceId ?? null;
    const read = traceId ? await this.spans.read(traceId) : { spans: [], truncated: false };
    const spans = spansOfTask(read.spans, r);
    const truncated = read.truncated;
    const analysis = analyzeTrace(spans, r, this.now(), truncated);
    return {
      taskId: r.taskId,
      traceId,
      status: r.status,
      attempts: r.attempts,
      createdAt: r.createdAt,
      startedAt: r.startedAt ?? null,
      finishedAt: r.finishedAt ?? null,
      spans: dedupeSpans(spans).map(toTraceSpan),
      analysis,
    };
  }
}
