/**
 * Accepting a task: permission and admission are checked by the caller's adapter; here the
 * capability is checked and the idempotency key claimed, then the task lifecycle (libs/tasks)
 * stores the record and queues the task for its capability and priority. With `wait`, the reply
 * is the final record, sent to this gateway process by the worker that finished it.
 */
import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import {
  PayloadTooLargeError,
  type PublicTask,
  type QueuedTask,
  SpanAttributes,
  SpanNames,
  type SubmitReply,
  type SubmitTaskRequest,
  UnavailableError,
  UnknownCapabilityError,
} from '@sb/contracts';
import type { Bus } from '@sb/messaging';
import { activeSpan } from '@sb/observability';
import { newTaskId, type TaskLifecycle } from '@sb/tasks';
import type { CapabilityCatalog } from './capability-catalog';
import type { CompletionInbox } from './completion-inbox';
import type { IntakeCheck } from './intake-guard';
import type { TaskQueries } from './task-queries';

export interface SubmitContext {
  tenantId: string;
  idempotencyKey?: string;
  traceparent: string;
  /** The tenant's ceiling on running tasks; null or absent = unlimited (workers then skip the slot). */
  maxConcurrent?: number | null;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class SubmitTaskHandler {
  constructor(
    /** For its tracer: the enqueue span. */
    private readonly bus: Bus,
    private readonly lifecycle: TaskLifecycle,
    private readonly idempotency: KV,
    private readonly catalog: CapabilityCatalog,
    private readonly queries: TaskQueries,
    private readonly inbox: CompletionInbox,
    private readonly maxInputBytes: number,
    private readonly now: () => Date = () => new Date(),
    /** Circuit breakers and load shedding (recovery's states): refuses fast with 503 + Retry-After. */
    private readonly guard?: IntakeCheck,
  ) {}

  async handle(req: SubmitTaskRequest, ctx: SubmitContext): Promise<SubmitReply | PublicTask> {
    const inputJson = JSON.stringify(req.input);
    if (inputJson.length > this.maxInputBytes) throw new PayloadTooLargeError(`input is ${inputJson.length} bytes; the limit is ${this.maxInputBytes}`);
    if (!(await this.catalog.has(req.capability))) {
      throw new UnknownCapabilityError(`No agent offers the capability "${req.capability}"`, { details: { known: this.catalog.list() } });
    }
    this.guard?.check(req.capability, req.priority);
    const taskId = newTaskId();
    if (ctx.idempotencyKey) {
      const existing = await this.claimIdempotencyKey(ctx.tenantId, ctx.idempotencyKey, taskId);
      if (existing) return req.wait ? this.queries.waitFor(ctx.tenantId, existing, req.timeoutMs, true) : { taskId: existing, status: 'queued' };
    }
    const now = this.now();
    const task: QueuedTask = {
      taskId,
      tenantId: ctx.tenantId,
      capability: req.capability,
      priority: req.priority,
      input: req.input,
      metadata: req.metadata,
      timeoutMs: req.timeoutMs,
      deadlineAt: new Date(now.getTime() + req.timeoutMs).toISOString(),
      createdAt: now.toISOString(),
    };
    if (ctx.idempotencyKey) task.idempotencyKey = ctx.idempotencyKey;
    // Expect the answer before enqueueing, so a fast finish is not missed.
    const waiting = req.wait ? this.inbox.expect(taskId, req.timeoutMs) : undefined;
    const attributes = { [SpanAttributes.TaskId]: taskId, [SpanAttributes.TenantId]: ctx.tenantId, [SpanAttributes.Capability]: req.capability };
    activeSpan()?.setAttributes(attributes);
    const key = ctx.idempotencyKey;
    const put = () =>
      this.lifecycle.submit(task, { traceparent: ctx.traceparent, notify: waiting ? this.inbox.subject : undefined, maxConcurrent: ctx.maxConcurrent }, async () => {
        if (key) await this.idempotency.purge(idempotencyKeyOf(ctx.tenantId, key));
      });
    try {
      await (this.bus.tracer ? this.bus.tracer.inSpan(SpanNames.Enqueue, { kind: 'producer', attributes }, put) : put());
    } catch (e) {
      waiting?.cancel();
      throw new UnavailableError('The task could not be queued; retry', { cause: e, retryAfter: 1 });
    }
    if (!waiting) return { taskId, status: 'queued' };
    return this.queries.finishCompletion(ctx.tenantId, taskId, waiting);
  }

  /** Returns the task id already bound to this key, or undefined if we claimed it for `taskId`. */
  private async claimIdempotencyKey(tenantId: string, key: string, taskId: string): Promise<string | undefined> {
    const k = idempotencyKeyOf(tenantId, key);
    try {
      await this.idempotency.create(k, enc.encode(taskId));
      return undefined;
    } catch {
      const e = await this.idempotency.get(k);
      if (e && e.operation === 'PUT') return dec.decode(e.value);
      throw new UnavailableError('Idempotency store unavailable', { retryAfter: 1 });
    }
  }
}

function idempotencyKeyOf(tenantId: string, key: string): string {
  return `${tenantId}.${createHash('sha256').update(key).digest('hex')}`;
}
