/**
 * Where a finished task goes: to the waiting gateway's completion subject over the bus, or, when
 * that gateway is this process, straight to its receiver (no publish). Events go out either way.
 */
import { names, type TaskRecord } from '@sb/contracts';
import type { Bus } from '@sb/messaging';
import { OutcomeTally } from './outcome-tally';
import { TaskAnnouncer } from './task-announcer';

const n = names('sbt');

function recordingBus(): { bus: Bus; published: { subject: string; payload: unknown }[] } {
  const published: { subject: string; payload: unknown }[] = [];
  const bus = { names: n, publish: (subject: string, payload: unknown) => published.push({ subject, payload }) } as unknown as Bus;
  return { bus, published };
}

const record = (status: TaskRecord['status']): TaskRecord =>
  ({
    taskId: 't1',
    tenantId: 'acme',
    capability: 'echo',
    priority: 'normal',
    status,
    input: { hi: 1 },
    metadata: {},
    timeoutMs: 1000,
    deadlineAt: '2026-12-03T00:00:01.000Z',
    createdAt: '2026-12-03T00:00:00.000Z',
    updatedAt: '2026-12-03T00:00:00.500Z',
    attempts: 1,
    errors: [],
    result: { ok: true },
  }) as unknown as TaskRecord;

describe('TaskAnnouncer completion hand-off', () => {
  it('publishes the finished task to another process’s completion subject', () => {
    const { bus, published } = recordingBus();
    const a = new TaskAnnouncer(bus);
    a.changed(record('succeeded'), 'sbt.internal.tasks.done.other');
    expect(published.map((p) => p.subject)).toEqual([n.tasks.event('acme', 't1', 'succeeded'), 'sbt.internal.tasks.done.other']);
  });

  it('hands it to this process’s receiver without publishing it, and still publishes the event', () => {
    const { bus, published } = recordingBus();
    const a = new TaskAnnouncer(bus);
    const delivered: unknown[] = [];
    a.deliverLocally('sbt.internal.tasks.done.me', (t) => delivered.push(t));
    a.changed(record('succeeded'), 'sbt.internal.tasks.done.me');
    expect(published.map((p) => p.subject)).toEqual([n.tasks.event('acme', 't1', 'succeeded')]);
    expect(delivered).toEqual([expect.objectContaining({ taskId: 't1', status: 'succeeded', result: { ok: true } })]);
  });

  it('sends nothing to a waiter before the task ends', () => {
    const { bus, published } = recordingBus();
    const a = new TaskAnnouncer(bus);
    const delivered: unknown[] = [];
    a.deliverLocally('sbt.internal.tasks.done.me', (t) => delivered.push(t));
    a.changed(record('running'), 'sbt.internal.tasks.done.me');
    expect(delivered).toEqual([]);
    expect(published).toHaveLength(1);
  });
});

describe('OutcomeTally', () => {
  it('counts the tasks that end, per capability and final status, and sends what it counted once per period', () => {
    const { bus, published } = recordingBus();
    const tally = new OutcomeTally(bus);
    const a = new TaskAnnouncer(bus, undefined, tally);
    a.changed(record('queued'));
    a.changed(record('running'));
    a.changed(record('succeeded'));
    a.changed(record('succeeded'));
    a.changed({ ...record('failed'), capability: 'other' });
    tally.beforeApplicationShutdown(); // flushes what is left
    const sent = published.filter((p) => p.subject === n.internal.taskTally);
    expect(sent).toHaveLength(1);
    expect((sent[0].payload as { counts: unknown[] }).counts).toEqual(
      expect.arrayContaining([
        { capability: 'echo', status: 'succeeded', n: 2 },
        { capability: 'other', status: 'failed', n: 1 },
      ]),
    );
    expect((sent[0].payload as { counts: unknown[] }).counts).toHaveLength(2);
    // Nothing since: nothing sent.
    tally.beforeApplicationShutdown();
    expect(published.filter((p) => p.subject === n.internal.taskTally)).toHaveLength(1);
  });

  it('sends on its period, on the boundary, while the process runs', async () => {
    jest.useFakeTimers({ now: 10_250 });
    try {
      const { bus, published } = recordingBus();
      const tally = new OutcomeTally(bus, 1_000);
      tally.onApplicationBootstrap();
      tally.count('echo', 'succeeded');
      jest.advanceTimersByTime(749);
      expect(published).toHaveLength(0);
      jest.advanceTimersByTime(1); // 11,000: the boundary
      expect(published).toEqual([{ subject: n.internal.taskTally, payload: { counts: [{ capability: 'echo', status: 'succeeded', n: 1 }] } }]);
      jest.advanceTimersByTime(3_000);
      expect(published).toHaveLength(1);
      tally.beforeApplicationShutdown();
    } finally {
      jest.useRealTimers();
    }
  });
});
