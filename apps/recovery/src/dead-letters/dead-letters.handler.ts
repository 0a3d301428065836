/**
 * Dead letters for operators and tenants: list (with poison fingerprints and their counts),
 * inspect (every attempt's error), redrive, delete, purge. A tenant-scoped request (tenantId
 * set) only ever sees that tenant's entries; another tenant's entry is "not found".
 *
 * Redrive re-runs the same task id as a fresh attempt cycle: the record goes from
 * dead_lettered back to queued under compare-and-set (the claim: a second redrive of the same
 * entry loses it and gets 409, or 404 once the entry is gone), with the errors cleared, a new
 * deadline and optionally an edited input or priority; then the task is enqueued (its own
 * message id per dead letter, so the queue's dedupe window never swallows it) and the entry
 * is removed from the dead-letter stream. The record and queue work is the task lifecycle's
 * (libs/tasks TaskLifecycle.redrive).
 *
 * A redrive is a new run of the task, so it is admitted like a submit: the gateway first asks
 * for a check (found for this tenant, under the redrive cap, input size; nothing changes),
 * admits the task's tenant (status, model access, rate limits, quota, intake guard), then asks
 * for the redrive with the tenant's running-task ceiling. Each task may be redriven at most
 * `redriveMax` times (counted on the task itself, so its next dead letter still knows); past
 * that: 409 RECOVERY.REDRIVE_LIMIT.
 */
import {
  ConflictError,
  type DeadLetterDetail,
  type DeadLetterSummary,
  NotFoundError,
  PayloadTooLargeError,
  type Priority,
  type QueuedTask,
  type RedriveCheck,
  RedriveLimitError,
  type RedriveReply,
  UnavailableError,
} from '@sb/contracts';
import type { TaskLifecycle } from '@sb/tasks';
import type { DlqStore, StoredDeadLetter } from './dlq-store';
import { fingerprint } from './fingerprint';

export interface DlqPorts {
  store: DlqStore;
  /** The task lifecycle: redrive claims the record, queues the task and announces it. */
  tasks: Pick<TaskLifecycle, 'redrive'>;
  scanMax: number;
  /** Redrives allowed per task. */
  redriveMax: number;
  now?: () => Date;
}

export interface ListRequest {
  tenantId?: string;
  capability?: string;
  tenant?: string;
  limit: number;
  since?: string;
}

export interface RedriveRequest {
  tenantId?: string;
  id: string;
  input?: { value: unknown };
  priority?: Priority;
  maxInputBytes?: number;
  maxConcurrent?: number | null;
}

const fpOf = (e: StoredDeadLetter) => fingerprint(e.entry.task.capability, e.entry.task.input, e.entry.errors.at(-1)?.code);

export class DeadLettersHandler {
  private readonly now: () => Date;
  constructor(private readonly p: DlqPorts) {
    this.now = p.now ?? (() => new Date());
  }

  async list(q: ListRequest): Promise<DeadLetterSummary[]> {
    const tenant = q.tenantId ?? q.tenant;
    const rows = (await this.p.store.scan(q.capability, undefined, this.p.scanMax)).filter((r) => !tenant || r.entry.task.tenantId === tenant);
    const counts = new Map<string, number>();
    const fps = rows.map((r) => {
      const f = fpOf(r);
      counts.set(f, (counts.get(f) ?? 0) + 1);
      return f;
    });
    const since = q.since ? Date.parse(q.since) : Number.NEGATIVE_INFINITY;
    const out: DeadLetterSummary[] = [];
    for (let i = rows.length - 1; i >= 0 && out.length < q.limit; i--) {
      if (Date.parse(rows[i].entry.deadLetteredAt) < since) continue;
      out.push(summary(rows[i], fps[i], counts.get(fps[i]) ?? 1));
    }
    return out;
  }

  async get(id: string, tenantId?: string): Promise<DeadLetterDetail> {
    const row = await this.find(id, tenantId);
    const fp = fpOf(row);
    const same = (await this.p.store.scan(row.entry.task.capability, undefined, this.p.scanMax)).filter((r) => (!tenantId || r.entry.task.tenantId === tenantId) && fpOf(r) === fp);
    return { ...summary(row, fp, Math.max(1, same.length)), task: row.entry.task, errors: row.entry.errors };
  }

  /** What a redrive would queue, or why it cannot be (404, 409 over the cap, 413); changes nothing. */
  async checkRedrive(req: RedriveRequest): Promise<RedriveCheck> {
    const { old, priority } = this.plan(await this.find(req.id, req.tenantId), req);
    return { id: req.id, taskId: old.taskId, tenantId: old.tenantId, capability: old.capability, priority, metadata: old.metadata };
  }

  async redrive(req: RedriveRequest): Promise<RedriveReply> {
    const row = await this.find(req.id, req.tenantId);
    const { old, input, priority, redrives } = this.plan(row, req);
    const now = this.now();
    const deadlineAt = new Date(now.getTime() + old.timeoutMs).toISOString();
    const task: QueuedTask = { ...old, input, priority, deadlineAt, redrives: redrives + 1 };

    // The lifecycle claims it (dead_lettered → queued under compare-and-set, or a fresh record if
    // it expired), queues it, and puts the record back if queueing fails.
    let out: Awaited<ReturnType<TaskLifecycle['redrive']>>;
    try {
      out = await this.p.tasks.redrive(task, `${old.taskId}.redrive.${row.seq}`, { maxConcurrent: req.maxConcurrent });
    } catch (e) {
      throw new UnavailableError('The task could not be queued; retry', { cause: e, retryAfter: 1 });
    }
    if ('conflict' in out) throw new ConflictError(out.conflict);
    await this.p.store.delete(row.seq);
    return { id: req.id, taskId: old.taskId, status: 'queued', priority, inputChanged: req.input !== undefined };
  }

  async delete(id: string, tenantId?: string): Promise<{ id: string; deleted: true }> {
    const row = await this.find(id, tenantId);
    if (!(await this.p.store.delete(row.seq))) throw new NotFoundError(`Dead letter ${id} not found`);
    return { id, deleted: true };
  }

  /** Everything (of one capability); a tenant's purge removes only its own entries. */
  async purge(capability: string | undefined, tenantId?: string): Promise<{ purged: number }> {
    if (!tenantId) return { purged: await this.p.store.purge(capability) };
    let purged = 0;
    for (const r of await this.p.store.scan(capability, undefined, this.p.scanMax)) {
      if (r.entry.task.tenantId === tenantId && (await this.p.store.delete(r.seq))) purged++;
    }
    return { purged };
  }

  /** The checks both share: under the redrive cap, the (edited) input within the size limit. */
  private plan(row: StoredDeadLetter, req: RedriveRequest) {
    const old = row.entry.task;
    const redrives = old.redrives ?? 0;
    if (redrives >= this.p.redriveMax) {
      const limit = this.p.redriveMax;
      throw new RedriveLimitError(`Task ${old.taskId} was redriven ${redrives} times; at most ${limit} are allowed`, { details: { redrives, limit } });
    }
    const input = req.input ? (req.input.value ?? null) : old.input;
    const size = JSON.stringify(input).length;
    if (req.maxInputBytes !== undefined && size > req.maxInputBytes) throw new PayloadTooLargeError(`input is ${size} bytes; the limit is ${req.maxInputBytes}`);
    return { old, input, priority: req.priority ?? old.priority, redrives };
  }

  private async find(id: string, tenantId?: string): Promise<StoredDeadLetter> {
    const row = await this.p.store.get(Number(id));
    if (!row || (tenantId && row.entry.task.tenantId !== tenantId)) throw new NotFoundError(`Dead letter ${id} not found`);
    return row;
  }
}

function summary(r: StoredDeadLetter, fp: string, count: number): DeadLetterSummary {
  const t = r.entry.task;
  return {
    id: String(r.seq),
    taskId: t.taskId,
    tenantId: t.tenantId,
    capability: t.capability,
    priority: t.priority,
    deadLetteredAt: r.entry.deadLetteredAt,
    attempts: r.entry.errors.length,
    lastError: r.entry.errors.at(-1) ?? null,
    fingerprint: fp,
    fingerprintCount: count,
    redrives: t.redrives ?? 0,
  };
}
