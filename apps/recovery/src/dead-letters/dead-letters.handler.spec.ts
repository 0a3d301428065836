import type { DeadLetter, QueuedTask, TaskRecord } from '@sb/contracts';
import { type EnqueueOptions, type TaskAnnouncer, TaskLifecycle, type TaskQueue, type TaskStore, type Versioned } from '@sb/tasks';
import { DeadLettersHandler, type DlqPorts } from './dead-letters.handler';
import type { DlqStore, StoredDeadLetter } from './dlq-store';

const now = new Date('2026-01-01T00:00:00Z');
const task = (taskId: string, tenantId = 'tn'): QueuedTask => ({
  taskId, tenantId, capability: 'llm', priority: 'low', input: { q: taskId }, metadata: {}, timeoutMs: 60_000, deadlineAt: '2025-12-31T00:00:00.000Z', createdAt: '2025-12-31T00:00:00.000Z',
});
const entry = (t: QueuedTask, code = 'AGENT.X'): DeadLetter => ({ task: t, errors: [{ code, message: 'no', retryable: true, attempt: 1 }], deadLetteredAt: now.toISOString() });

/** In-memory stand-ins with the same contracts (CAS on revision; delete says whether it was there). */
function fakes(entries: StoredDeadLetter[], records: Map<string, Versioned>) {
  const store = {
    get: async (seq: number) => entries.find((e) => e.seq === seq),
    scan: async () => [...entries],
    delete: async (seq: number) => {
      const i = entries.findIndex((e) => e.seq === seq);
      if (i < 0) return false;
      entries.splice(i, 1);
      return true;
    },
    purge: async () => entries.splice(0).length,
  } as unknown as DlqStore;
  const tasks = {
    get: async (tenantId: string, taskId: string) => records.get(`${tenantId}.${taskId}`),
    replace: async (r: TaskRecord, revision: number) => {
      const cur = records.get(`${r.tenantId}.${r.taskId}`);
      if (!cur || cur.revision !== revision) return undefined;
      records.set(`${r.tenantId}.${r.taskId}`, { record: r, revision: revision + 1 });
      return revision + 1;
    },
    create: async (r: TaskRecord) => {
      if (records.has(`${r.tenantId}.${r.taskId}`)) throw new Error('exists');
      records.set(`${r.tenantId}.${r.taskId}`, { record: r, revision: 1 });
      return 1;
    },
    delete: async (tenantId: string, taskId: string) => void records.delete(`${tenantId}.${taskId}`),
  } as unknown as TaskStore;
  return { store, tasks };
}

function setup(opts: { failEnqueue?: boolean; redrives?: number } = {}) {
  const t1 = { ...task('t1'), ...(opts.redrives ? { redrives: opts.redrives } : {}) };
  const entries: StoredDeadLetter[] = [{ seq: 7, entry: entry(t1) }];
  const records = new Map<string, Versioned>([['tn.t1', { record: { ...t1, status: 'dead_lettered', errors: entry(t1).errors, attempts: 3 }, revision: 5 }]]);
  const enqueued: Array<{ task: QueuedTask; msgId: string; revision: string | undefined; maxConcurrent?: number | null }> = [];
  const { store, tasks } = fakes(entries, records);
  // The real lifecycle over the in-memory store; the queue records what it would publish.
  const queue = {
    enqueue: async (t: QueuedTask, o: EnqueueOptions) => {
      if (opts.failEnqueue) throw new Error('stream unavailable');
      enqueued.push({ task: t, msgId: o.msgId, revision: o.recordRevision === undefined ? undefined : String(o.recordRevision), ...(o.maxConcurrent !== undefined ? { maxConcurrent: o.maxConcurrent } : {}) });
    },
  } as unknown as TaskQueue;
  const announcer = { changed: () => undefined } as unknown as TaskAnnouncer;
  const ports: DlqPorts = {
    store,
    tasks: new TaskLifecycle(tasks, queue, announcer, () => now),
    scanMax: 1000,
    redriveMax: 2,
    now: () => now,
  };
  return { handler: new DeadLettersHandler(ports), entries, records, enqueued };
}

const codeOf = async (p: Promise<unknown>) => p.then(() => 'ok', (e: { code: string }) => e.code);

describe('DeadLettersHandler', () => {
  it('redrive resets the record under CAS, enqueues with its revision and a per-entry message id, removes the entry', async () => {
    const { handler, entries, records, enqueued } = setup();
    const r = await handler.redrive({ id: '7', tenantId: 'tn', input: { value: { q: 'fixed' } } });
    expect(r).toEqual({ id: '7', taskId: 't1', status: 'queued', priority: 'low', inputChanged: true });
    expect(records.get('tn.t1')).toMatchObject({ revision: 6, record: { status: 'queued', input: { q: 'fixed' }, errors: [], attempts: 0, deadlineAt: '2026-01-01T00:01:00.000Z', redrives: 1 } });
    expect(enqueued).toEqual([{ task: expect.objectContaining({ taskId: 't1', input: { q: 'fixed' }, deadlineAt: '2026-01-01T00:01:00.000Z', redrives: 1 }), msgId: 't1.redrive.7', revision: '6' }]);
    expect(entries).toEqual([]);
    expect(await codeOf(handler.redrive({ id: '7' }))).toBe('RESOURCE.NOT_FOUND');
    expect(enqueued).toHaveLength(1);
  });

  it('a check says what a redrive would queue and changes nothing', async () => {
    const { handler, entries, records, enqueued } = setup();
    const before = structuredClone(records.get('tn.t1'));
    expect(await handler.checkRedrive({ id: '7', tenantId: 'tn', priority: 'high' })).toEqual({ id: '7', taskId: 't1', tenantId: 'tn', capability: 'llm', priority: 'high', metadata: {} });
    expect(await codeOf(handler.checkRedrive({ id: '7', tenantId: 'other' }))).toBe('RESOURCE.NOT_FOUND');
    expect(await codeOf(handler.checkRedrive({ id: '7', input: { value: 'x'.repeat(100) }, maxInputBytes: 10 }))).toBe('REQUEST.TOO_LARGE');
    expect(records.get('tn.t1')).toEqual(before);
    expect(entries).toHaveLength(1);
    expect(enqueued).toEqual([]);
  });

  it('queues the redriven task with the tenant’s running-task ceiling from its admission', async () => {
    const { handler, enqueued } = setup();
    await handler.redrive({ id: '7', maxConcurrent: 4 });
    expect(enqueued[0].maxConcurrent).toBe(4);
  });

  it('refuses a redrive past the cap with 409 RECOVERY.REDRIVE_LIMIT (its check too), changing nothing', async () => {
    const { handler, entries, records, enqueued } = setup({ redrives: 2 });
    for (const attempt of [handler.checkRedrive({ id: '7' }), handler.redrive({ id: '7' })]) {
      await expect(attempt).rejects.toMatchObject({ code: 'RECOVERY.REDRIVE_LIMIT', status: 409, retryable: false, details: { redrives: 2, limit: 2 } });
    }
    expect(records.get('tn.t1')!.record.status).toBe('dead_lettered');
    expect(entries).toHaveLength(1);
    expect(enqueued).toEqual([]);
    // The count shows in the listing.
    expect((await handler.list({ limit: 10 }))[0]).toMatchObject({ id: '7', redrives: 2 });
  });

  it('a concurrent second redrive loses the compare-and-set (409) and enqueues nothing', async () => {
    const { handler, enqueued } = setup();
    const results = await Promise.all([codeOf(handler.redrive({ id: '7' })), codeOf(handler.redrive({ id: '7' }))]);
    expect(results.sort()).toEqual(['RESOURCE.CONFLICT', 'ok']);
    expect(enqueued).toHaveLength(1);
  });

  it('a failed enqueue puts the record back, keeps the entry, and answers 503', async () => {
    const { handler, entries, records } = setup({ failEnqueue: true });
    expect(await codeOf(handler.redrive({ id: '7' }))).toBe('SERVICE.UNAVAILABLE');
    expect(records.get('tn.t1')!.record.status).toBe('dead_lettered');
    expect(entries).toHaveLength(1);
  });

  it("another tenant's entry is not found, for every verb", async () => {
    const { handler, entries } = setup();
    for (const p of [handler.get('7', 'other'), handler.redrive({ id: '7', tenantId: 'other' }), handler.delete('7', 'other')]) expect(await codeOf(p)).toBe('RESOURCE.NOT_FOUND');
    expect(await handler.purge(undefined, 'other')).toEqual({ purged: 0 });
    expect(entries).toHaveLength(1);
  });

  it('recreates an expired record on redrive', async () => {
    const { handler, records, enqueued } = setup();
    records.clear();
    await handler.redrive({ id: '7' });
    expect(records.get('tn.t1')).toMatchObject({ revision: 1, record: { status: 'queued', attempts: 0 } });
    expect(enqueued[0].revision).toBe('1');
  });
});
