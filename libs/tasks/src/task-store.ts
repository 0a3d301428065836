/**
 * Task records in a JetStream KV bucket, keyed `<tenantId>.<taskId>` so a tenant can only
 * ever address its own tasks (TaskPages lists them, a page at a time). Writes are
 * compare-and-set on the entry's revision: a stale writer (a cancelled task's agent, a zombie
 * after a reclaim) loses, so a task's result is stored once.
 */
import type { KV } from '@nats-io/kv';
import type { KvWriter } from '@sb/messaging';
import type { TaskRecord } from '@sb/contracts';

export interface Versioned {
  record: TaskRecord;
  revision: number;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const MAX_CAS_ATTEMPTS = 8;

/** How records are written: over the connection's muxed inbox (KvWriter), or the bucket's own methods. */
type Writes = Pick<KvWriter, 'create' | 'update'>;

export class TaskStore {
  private readonly writes: Writes;

  constructor(
    private readonly kv: KV,
    writer?: Writes,
  ) {
    this.writes = writer ?? kv;
  }

  static key(tenantId: string, taskId: string): string {
    return `${tenantId}.${taskId}`;
  }

  async get(tenantId: string, taskId: string): Promise<Versioned | undefined> {
    const e = await this.kv.get(TaskStore.key(tenantId, taskId));
    if (!e || e.operation !== 'PUT' || e.length === 0) return undefined;
    // Only our services write this bucket, and they validated at the edge: no re-validation on the hot path.
    return { record: JSON.parse(decoder.decode(e.value)) as TaskRecord, revision: e.revision };
  }

  /** Create; fails if the key exists. */
  async create(record: TaskRecord): Promise<number> {
    return this.writes.create(TaskStore.key(record.tenantId, record.taskId), encoder.encode(JSON.stringify(record)));
  }

  async delete(tenantId: string, taskId: string): Promise<void> {
    await this.kv.purge(TaskStore.key(tenantId, taskId));
  }

  /** Write `next` only if the entry is still at `revision`. Returns the new revision, or undefined if someone else wrote first. */
  async replace(next: TaskRecord, revision: number): Promise<number | undefined> {
    try {
      return await this.writes.update(TaskStore.key(next.tenantId, next.taskId), encoder.encode(JSON.stringify(next)), revision);
    } catch (e) {
      if (isWrongRevision(e)) return undefined;
      throw e;
    }
  }

  /**
   * Read-modify-write with compare-and-set, retried on conflicts. `change` returns undefined
   * to leave the record as it is (the transition is not allowed from its current state).
   */
  async transition(tenantId: string, taskId: string, change: (r: TaskRecord) => TaskRecord | undefined): Promise<{ applied: boolean; current?: Versioned }> {
    for (let i = 0; i < MAX_CAS_ATTEMPTS; i++) {
      const cur = await this.get(tenantId, taskId);
      if (!cur) return { applied: false };
      const next = change(cur.record);
      if (!next) return { applied: false, current: cur };
      const revision = await this.replace(next, cur.revision);
      if (revision !== undefined) return { applied: true, current: { record: next, revision } };
    }
    throw new Error(`task ${taskId}: too many concurrent writers`);
  }
}

export function isWrongRevision(e: unknown): boolean {
  const err = e as { message?: string; code?: number; api_error?: { err_code?: number } };
  return err?.api_error?.err_code === 10071 || /wrong last sequence|wrong last msg/i.test(err?.message ?? '');
}

const TROUBLE_NAMES = new Set(['TimeoutError', 'NoRespondersError', 'RequestError', 'JetStreamStatusError']);

/**
 * The store could not answer for now (a NATS stream leader election: no responders, timeouts, a
 * 503 from JetStream), as opposed to a refusal or a closed connection: worth retrying shortly.
 */
export function isStorageTrouble(e: unknown): boolean {
  const err = e as { name?: string; api_error?: { code?: number } };
  return TROUBLE_NAMES.has(err?.name ?? '') || err?.api_error?.code === 503;
}
