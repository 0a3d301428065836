/** The console's task detail: the public task plus input, attempts and a timeline, from the stored record. */
import { type PublicTask, type TaskRecord, toPublicTask } from '@sb/contracts';
import { readTaskDetail, toTaskDetail } from './task-detail';

const record = (extra: Partial<TaskRecord> = {}): TaskRecord => ({
  taskId: 't1',
  tenantId: 'tn_a',
  capability: 'echo',
  priority: 'normal',
  status: 'succeeded',
  input: { text: 'hi' },
  metadata: {},
  timeoutMs: 30_000,
  deadlineAt: '2026-01-01T00:00:30.000Z',
  errors: [],
  attempts: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  startedAt: '2026-01-01T00:00:01.000Z',
  finishedAt: '2026-01-01T00:00:02.000Z',
  result: { echo: 'hi' },
  agentId: 'a1',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  ...extra,
});

describe('task detail', () => {
  it('adds the input, trace id and a timeline to the public task', () => {
    const r = record();
    const d = toTaskDetail(toPublicTask(r), r);
    expect(d).toMatchObject({ taskId: 't1', tenantId: 'tn_a', input: { text: 'hi' }, result: { echo: 'hi' }, traceId: '0af7651916cd43dd8448eb211c80319c', redrives: 0 });
    expect(d.timeline.map((e) => `${e.kind}:${e.status ?? ''}`)).toEqual(['queued:queued', 'running:running', 'finished:succeeded']);
  });

  it('lists every failed attempt in time order, and ends with the outcome and its error', () => {
    const err = (attempt: number, at: string) => ({ code: 'AGENT.FLAKY', message: `try ${attempt}`, retryable: true, attempt, agentId: 'a1', at });
    const r = record({
      status: 'dead_lettered',
      attempts: 2,
      result: undefined,
      error: err(2, '2026-01-01T00:00:03.000Z'),
      errors: [err(1, '2026-01-01T00:00:01.500Z'), err(2, '2026-01-01T00:00:03.000Z')],
      startedAt: '2026-01-01T00:00:02.000Z',
      finishedAt: '2026-01-01T00:00:03.000Z',
    });
    const d = toTaskDetail(toPublicTask(r), r);
    expect(d.errors).toHaveLength(2);
    expect(d.timeline.map((e) => [e.kind, e.attempt ?? null, e.code ?? null])).toEqual([
      ['queued', null, null],
      ['attempt_failed', 1, 'AGENT.FLAKY'],
      ['running', 2, null],
      ['attempt_failed', 2, 'AGENT.FLAKY'],
      ['finished', null, 'AGENT.FLAKY'],
    ]);
  });

  it('is "not found" when the record is gone, and uses the public task as read (a task past its deadline ends there)', async () => {
    const r = record({ status: 'running', finishedAt: null, result: undefined });
    const timedOut: PublicTask = { ...toPublicTask(r), status: 'timed_out', finishedAt: '2026-01-01T00:00:31.000Z' };
    const d = await readTaskDetail({ publicTask: async () => timedOut, record: async () => ({ record: r }) }, 'tn_a', 't1');
    expect(d.status).toBe('timed_out');
    expect(d.timeline.at(-1)).toMatchObject({ kind: 'finished', status: 'timed_out' });
    await expect(readTaskDetail({ publicTask: async () => timedOut, record: async () => undefined }, 'tn_a', 't1')).rejects.toMatchObject({ status: 404 });
  });
});
