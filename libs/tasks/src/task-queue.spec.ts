/**
 * The enqueue hint: one per capability and priority per event-loop turn, however many tasks a
 * turn queues, sent after the queue write it announces and naming its sender; this process's
 * own takes are woken at once.
 */
import { names, type QueuedTask } from '@sb/contracts';
import type { NatsClient } from '@sb/messaging';
import { TaskQueue } from './task-queue';

const n = names('sbt');

const task = (id: string, capability = 'echo', priority: QueuedTask['priority'] = 'normal'): QueuedTask =>
  ({ taskId: id, tenantId: 'acme', capability, priority, input: {}, metadata: {}, timeoutMs: 1000, deadlineAt: '2026-12-03T00:00:01.000Z', createdAt: '2026-12-03T00:00:00.000Z' }) as QueuedTask;

function fakeClient() {
  const events: string[] = [];
  const client = {
    names: n,
    jsPublish: async (subject: string) => {
      events.push(`js ${subject}`);
      return { seq: events.length };
    },
    nc: { publish: (subject: string, body?: Uint8Array) => events.push(`hint ${subject} ${new TextDecoder().decode(body)}`) },
    self: { service: 'gateway', instanceId: 'gw1' },
  } as unknown as Pick<NatsClient, 'jsPublish' | 'nc' | 'names' | 'self'>;
  return { client, events };
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

describe('TaskQueue hints', () => {
  it('sends one hint per capability and priority for a turn’s enqueues, after the writes', async () => {
    const { client, events } = fakeClient();
    const q = new TaskQueue(client);
    await Promise.all([q.enqueue(task('a'), { msgId: 'a' }), q.enqueue(task('b'), { msgId: 'b' }), q.enqueue(task('c', 'echo', 'high'), { msgId: 'c' }), q.enqueue(task('d', 'code'), { msgId: 'd' })]);
    expect(events.filter((e) => e.startsWith('hint'))).toEqual([]);
    await nextTurn();
    const hints = events.filter((e) => e.startsWith('hint'));
    const from = '{"from":"gw1"}';
    expect(hints.sort()).toEqual([`hint ${n.internal.taskReady('code', 'normal')} ${from}`, `hint ${n.internal.taskReady('echo', 'high')} ${from}`, `hint ${n.internal.taskReady('echo', 'normal')} ${from}`].sort());
    expect(events.findIndex((e) => e.startsWith('hint'))).toBeGreaterThan(events.findLastIndex((e) => e.startsWith('js')));
  });

  it('wakes this process’s own takes at once, after each write, without waiting for the hint', async () => {
    const { client, events } = fakeClient();
    const q = new TaskQueue(client);
    q.wakeLocally((capability, priority) => events.push(`wake ${capability} ${priority}`));
    await q.enqueue(task('a', 'echo', 'high'), { msgId: 'a' });
    expect(events).toEqual([`js ${n.queue.subject('echo', 'high')}`, 'wake echo high']);
    await nextTurn();
    expect(events.filter((e) => e.startsWith('hint'))).toHaveLength(1);
  });

  it('hints again in a later turn', async () => {
    const { client, events } = fakeClient();
    const q = new TaskQueue(client);
    await q.enqueue(task('a'), { msgId: 'a' });
    await nextTurn();
    await q.enqueue(task('b'), { msgId: 'b' });
    await nextTurn();
    expect(events.filter((e) => e.startsWith('hint'))).toHaveLength(2);
  });
});
