/**
 * Listing a tenant's records a page at a time on real NATS: most recently written first, every
 * record once across the pages, never more records read per call than the budget, and another
 * tenant's records never read at all.
 */
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { TaskRecord } from '@sb/contracts';
import { coreImports, NatsClient } from '@sb/messaging';
import { createLogger } from '@sb/observability';
import { cleanupJetStream, testEnv, uniquePrefix } from '@sb/testing';
import { newTaskId } from './ids';
import { TaskInfrastructure } from './task-infrastructure';
import type { TaskPage, TaskPageQuery } from './task-pages';
import { TasksModule } from './tasks.module';

describe('task pages over real NATS', () => {
  const prefix = uniquePrefix();
  let app: INestApplicationContext;
  let client: NatsClient;
  let infra: TaskInfrastructure;
  const written: Record<string, string[]> = { busy: [], quiet: [] };

  function record(tenantId: string, i: number): TaskRecord {
    const at = new Date(Date.parse('2026-12-01T10:00:00Z') + i).toISOString();
    return { taskId: newTaskId(), tenantId, capability: i % 3 === 0 ? 'rare' : 'echo', priority: 'normal', status: 'queued', input: { i }, metadata: {}, timeoutMs: 30_000, deadlineAt: at, errors: [], attempts: 0, createdAt: at };
  }

  beforeAll(async () => {
    const mod = await Test.createTestingModule({
      imports: [...coreImports('gateway', { NATS_URL: testEnv().natsUrl, SB_PREFIX: prefix, REQUEST_TIMEOUT_MS: 2000 }, createLogger('test', 'silent')), TasksModule.forRoot()],
    }).compile();
    app = await mod.init();
    client = app.get(NatsClient);
    infra = app.get(TaskInfrastructure);
    // Two tenants interleaved, the busy one with 60 records, the quiet one with 3.
    for (let i = 0; i < 60; i++) {
      for (const tenantId of i % 20 === 0 ? ['busy', 'quiet'] : ['busy']) {
        const r = record(tenantId, i);
        await infra.store.create(r);
        written[tenantId].push(r.taskId);
      }
    }
  });
  afterAll(async () => {
    await cleanupJetStream(client.nc, prefix);
    await app.close();
  });

  /** Every page from the first on, and the records each call read. */
  async function allPages(tenantId: string, q: Omit<TaskPageQuery, 'cursor'>): Promise<TaskPage[]> {
    const pages: TaskPage[] = [];
    let cursor: string | undefined;
    do {
      const page = await infra.pages.page(tenantId, { ...q, cursor });
      pages.push(page);
      cursor = page.next;
    } while (cursor !== undefined && pages.length < 100);
    return pages;
  }

  it('answers the newest records first, `limit` at a time, each record once across the pages', async () => {
    const pages = await allPages('busy', { limit: 7, scanMax: 1_000 });
    const ids = pages.flatMap((p) => p.records.map((r) => r.taskId));
    expect(ids).toEqual([...written.busy].reverse());
    expect(pages.every((p) => p.records.length <= 7)).toBe(true);
    expect(pages.at(-1)!.next).toBeUndefined();
  });

  it('reads at most `scanMax` records per call, even when the filter matches few, and still finds them all', async () => {
    const pages = await allPages('busy', { limit: 100, scanMax: 8, filter: (r) => r.capability === 'rare' });
    expect(Math.max(...pages.map((p) => p.scanned))).toBeLessThanOrEqual(8);
    expect(pages.length).toBeGreaterThanOrEqual(60 / 8);
    const expected = written.busy.filter((_, i) => i % 3 === 0).reverse();
    expect(pages.flatMap((p) => p.records.map((r) => r.taskId))).toEqual(expected);
  });

  it("reads only the tenant's own records, however many others there are around them", async () => {
    const page = await infra.pages.page('quiet', { limit: 100, scanMax: 5 });
    expect(page.records.map((r) => r.taskId)).toEqual([...written.quiet].reverse());
    expect(page.scanned).toBe(3);
    expect(page.next).toBeUndefined();
    expect(await infra.pages.page('nobody', { limit: 100, scanMax: 5 })).toEqual({ records: [], scanned: 0 });
  });

  it('moves a changed record to the front, and does not show deleted ones', async () => {
    const [oldest] = written.busy;
    await infra.store.transition('busy', oldest, (r) => ({ ...r, status: 'cancelled' }));
    const gone = written.busy[1];
    await infra.store.delete('busy', gone);
    const first = await infra.pages.page('busy', { limit: 2, scanMax: 100 });
    expect(first.records.map((r) => [r.taskId, r.status])).toEqual([
      [oldest, 'cancelled'],
      [written.busy[59], 'queued'],
    ]);
    const all = (await allPages('busy', { limit: 50, scanMax: 1_000 })).flatMap((p) => p.records.map((r) => r.taskId));
    expect(all).toHaveLength(59);
    expect(all).not.toContain(gone);
  });
});
