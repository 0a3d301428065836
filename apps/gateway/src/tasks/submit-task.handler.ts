/**
 * Accepting a task: permission and admission are checked by the caller's adapter; here the
 * capability is checked, the idempotency key claimed, the record stored, and the task put on
 * the work queue for its capability and priority. With `wait`, the reply is the final record.
 */
import { createHash } from 'node:crypto';
import { headers as natsHeaders } from '@nats-io/nats-core';
import {
  Headers,
  PayloadTooLargeError,
  type PublicTask,
  type QueuedTask,
  SpanAttributes,
  SpanNames,
  type SubmitReply,
  type SubmitTaskRequest,
  type TaskRecord,
  UnavailableError,
  UnknownCapabilityError,
} from '@sb/contracts';
import { Bus, NatsClient } from '@sb/messaging';
import { activeSpan } from '@sb/observability';
import { newTaskId, publishTaskEvent, queuedRecord, TaskInfrastructure } from '@sb/tasks';
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
    private readonly client: NatsClient,
    private readonly bus: Bus,
    private readonly infra: TaskInfrastructure,
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
    const record = queuedRecord(task, ctx.traceparent);
    // Expect the answer before enqueueing, so a fast finish is not missed.
    const waiting = req.wait ? this.inbox.expect(taskId, req.timeoutMs) : undefined;
    const attributes = { [SpanAttributes.TaskId]: taskId, [SpanAttributes.TenantId]: ctx.tenantId, [SpanAttributes.Capability]: req.capability };
    activeSpan()?.setAttributes(attributes);
    const put = async () => {
      const revision = await this.infra.store.create(record);
      await this.enqueue(task, record, revision, waiting !== undefined, ctx.maxConcurrent);
    };
    try {
      await (this.bus.tracer ? this.bus.tracer.inSpan(SpanNames.Enqueue, { kind: 'producer', attributes }, put) : put());
    } catch (e) {
      waiting?.cancel();
      await this.rollback(record).catch(() => undefined);
      throw new UnavailableError('The task could not be queued; retry', { cause: e, retryAfter: 1 });
    }
    publishTaskEvent(this.bus, record, now);
    if (!waiting) return { taskId, status: 'queued' };
    return this.queries.finishCompletion(ctx.tenantId, taskId, waiting);
  }

  private async enqueue(task: QueuedTask, r: TaskRecord, revision: number, notify: boolean, maxConcurrent?: number | null): Promise<void> {
    const h = natsHeaders();
    h.set(Headers.TraceParent, r.traceparent ?? '');
    h.set(Headers.TaskId, r.taskId);
    h.set(Headers.RecordRevision, String(revision));
    if (notify) h.set(Headers.Notify, this.inbox.subject);
    if (typeof maxConcurrent === 'number') h.set(Headers.ConcurrencyLimit, String(maxConcurrent));
    await this.client.js.publish(this.client.names.queue.subject(r.capability, r.priority), enc.encode(JSON.stringify(task)), { msgID: r.taskId, headers: h });
    // A hint for idle workers; they also poll, so a lost hint only delays.
    this.client.nc.publish(this.client.names.internal.taskReady(r.capability, r.priority));
  }

  /** Returns the task id already bound to this key, or undefined if we claimed it for `taskId`. */
  private async claimIdempotencyKey(tenantId: string, key: string, taskId: string): Promise<string | undefined> {
    const k = `${tenantId}.${createHash('sha256').update(key).digest('hex')}`;
    try {
      await this.infra.idempotency.create(k, enc.encode(taskId));
      return undefined;
    } catch {
      const e = await this.infra.idempotency.get(k);
      if (e && e.operation === 'PUT') return dec.decode(e.value);
      throw new UnavailableError('Idempotency store unavailable', { retryAfter: 1 });
    }
  }

  private async rollback(r: TaskRecord): Promise<void> {
    await this.infra.store.delete(r.tenantId, r.taskId);
    if (r.idempotencyKey) await this.infra.idempotency.purge(`${r.tenantId}.${createHash('sha256').update(r.idempotencyKey).digest('hex')}`);
  }
}
