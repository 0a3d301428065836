/**
 * One task lifecycle against real NATS (JetStream work queue, KV records): what submit, start,
 * complete, retry, dead-letter, cancel, time-out, reclaim and redrive store, queue and announce.
 */
import { AckPolicy } from '@nats-io/jetstream';
import { type DeadLetter, Headers, type QueuedTask, type TaskEvent, taskMaxDeliver } from '@sb/contracts';
import { Bus, coreImports, NatsClient, pullNoWait, type PulledMessage } from '@sb/messaging';
import { createLogger } from '@sb/observability';
import { cleanupJetStream, collectMessages, eventually, testEnv, uniquePrefix } from '@sb/testing';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { newTaskId } from './ids';
import { TaskAnnouncer } from './task-announcer';
import { TaskInfrastructure } from './task-infrastructure';
import { TaskLifecycle } from './task-lifecycle';
import { TaskQueue } from './task-queue';
import type { RunDeps } from './run-deps';
import { TaskRuns } from './task-runs';
import type { TaskStore } from './task-store';
import { TasksModule } from './tasks.module';

const RETRY = { maxAttempts: 2, baseMs: 10, maxMs: 20 };

describe('task lifecycle over real NATS', () => {
  const prefix = uniquePrefix();
  let app: INestApplicationContext;
  let client: NatsClient;
  let lifecycle: TaskLifecycle;
  let runs: TaskRuns;
  let deps: RunDeps;
  const clock = { t: Date.parse('2026-12-01T10:00:00Z') };
  const now = () => new Date(clock.t);

  beforeAll(async () => {
    const logger = createLogger('test', 'silent');
    const mod = await Test.createTestingModule({
      imports: [...coreImports('gateway', { NATS_URL: testEnv().natsUrl, SB_PREFIX: prefix, REQUEST_TIMEOUT_MS: 2000 }, logger), TasksModule.forRoot()],
    }).compile();
    app = await mod.init();
    client = app.get(NatsClient);
    const infra = app.get(TaskInfrastructure);
    const announcer = new TaskAnnouncer(app.get(Bus), now);
    lifecycle = new TaskLifecycle(infra.store, app.get(TaskQueue), announcer, now);
    deps = { store: infra.store, queue: app.get(TaskQueue), announcer, retry: RETRY, workerId: 'w1', now };
    runs = new TaskRuns(deps);
    await client.jsm.consumers.add(client.names.queue.stream, { durable_name: 'echo', ack_policy: AckPolicy.Explicit, filter_subject: client.names.queue.subject('echo', 'normal') });
  });
  afterAll(async () => {
    await cleanupJetStream(client.nc, prefix);
    await app.close();
  });

  function task(over: Partial<QueuedTask> = {}): QueuedTask {
    const createdAt = now();
    return { taskId: newTaskId(), tenantId: 'tn1', capability: 'echo', priority: 'normal', input: { hi: 1 }, metadata: {}, timeoutMs: 30_000, deadlineAt: new Date(createdAt.getTime() + 30_000).toISOString(), createdAt: createdAt.toISOString(), ...over };
  }

  async function take(): Promise<PulledMessage> {
    const [m] = await pullNoWait(client.nc, client.names.queue.stream, 'echo', 1);
    if (!m) throw new Error('nothing queued');
    return m;
  }

  const stored = async (t: QueuedTask) => (await lifecycle.store.get(t.tenantId, t.taskId))?.record;

  it('submit stores the record, then queues the task with the headers a worker starts from, then announces queued', async () => {
    const t = task();
    const events = collectMessages<TaskEvent>(client.nc, client.names.tasks.eventsOfTask(t.tenantId, t.taskId));
    await events.ready;
    await lifecycle.submit(t, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', notify: `${prefix}.done.gw1`, maxConcurrent: 3 });
    expect(await stored(t)).toMatchObject({ status: 'queued', attempts: 0, errors: [] });
    const m = await take();
    expect(JSON.parse(new TextDecoder().decode(m.data))).toEqual(t);
    expect(m.headers?.get(Headers.TaskId)).toBe(t.taskId);
    expect(Number(m.headers?.get(Headers.RecordRevision))).toBeGreaterThan(0);
    expect(m.headers?.get(Headers.Notify)).toBe(`${prefix}.done.gw1`);
    expect(m.headers?.get(Headers.ConcurrencyLimit)).toBe('3');
    expect((await events.waitForCount(1))[0].data).toMatchObject({ taskId: t.taskId, status: 'queued' });
    m.ack();
    await events.stop();
  });

  it('a worker starts it under a lease without reading it, stores the result once, and tells the waiting gateway', async () => {
    const t = task();
    const done = collectMessages(client.nc, `${prefix}.done.gw2`);
    await done.ready;
    await lifecycle.submit(t, { notify: `${prefix}.done.gw2` });
    const m = await take();
    const run = (await runs.start(t, m, true))!;
    expect(run.lease).toEqual({ agentId: 'w1', epoch: 1 });
    expect(await stored(t)).toMatchObject({ status: 'running', agentId: 'w1', attempts: 1 });
    expect(await run.complete({ out: 1 })).toBe('stored');
    expect(await stored(t)).toMatchObject({ status: 'succeeded', result: { out: 1 } });
    expect((await done.waitForCount(1))[0].data).toMatchObject({ taskId: t.taskId, status: 'succeeded', result: { out: 1 } });
    // A second result for the same run loses the compare-and-set: stored once.
    expect(await run.complete({ out: 2 })).toBe('superseded');
    expect((await stored(t))?.result).toEqual({ out: 1 });
    await done.stop();
  });

  it('retries with backoff, then dead-letters when the budget is spent', async () => {
    const t = task();
    const dlq = collectMessages<DeadLetter>(client.nc, client.names.deadLetters.subject('echo'));
    await dlq.ready;
    await lifecycle.submit(t, {});
    const first = (await runs.start(t, await take(), true))!;
    await first.retry({ code: 'AGENT.ERROR', message: 'boom', class: 'agent_error' });
    expect(await stored(t)).toMatchObject({ status: 'queued', errors: [expect.objectContaining({ code: 'AGENT.ERROR', attempt: 1, retryable: true })] });
    // The nak'd message comes back after its backoff.
    const again = await eventually(async () => (await pullNoWait(client.nc, client.names.queue.stream, 'echo', 1))[0] ?? false, { intervalMs: 10 });
    expect(again.info.deliveryCount).toBe(2);
    const second = (await runs.start(t, again, true))!;
    await second.retry({ code: 'AGENT.ERROR', message: 'boom again' });
    expect(await stored(t)).toMatchObject({ status: 'dead_lettered', error: expect.objectContaining({ attempt: 2 }) });
    expect((await dlq.waitForCount(1))[0].data).toMatchObject({ task: { taskId: t.taskId }, errors: [expect.anything(), expect.anything()] });
    await dlq.stop();
  });

  /** The task's message back `times` times without a start (as when storage trouble refuses each start): its last delivery. */
  async function redeliveredUnstarted(times: number): Promise<PulledMessage> {
    let m = await take();
    for (let i = 0; i < times; i++) {
      m.nak(0);
      m = await eventually(async () => (await pullNoWait(client.nc, client.names.queue.stream, 'echo', 1))[0] ?? false, { intervalMs: 10 });
    }
    return m;
  }

  it('deliveries that never started (storage trouble) spend none of the budget: a later delivery runs as attempt 1', async () => {
    const t = task();
    await lifecycle.submit(t, {});
    const m = await redeliveredUnstarted(RETRY.maxAttempts + 1);
    expect(m.info.deliveryCount).toBe(RETRY.maxAttempts + 2);
    const run = (await runs.start(t, m, true))!;
    expect(run).toBeDefined();
    expect(run.attempt).toBe(1);
    // The lease epoch still follows the delivery count, so no earlier delivery's lease is reused.
    expect(run.lease).toEqual({ agentId: 'w1', epoch: RETRY.maxAttempts + 2 });
    expect(await stored(t)).toMatchObject({ status: 'running', attempts: 1 });
    await run.retry({ code: 'AGENT.ERROR', message: 'boom' });
    expect(await stored(t)).toMatchObject({ status: 'queued', errors: [expect.objectContaining({ attempt: 1 })] });
    const next = await eventually(async () => (await pullNoWait(client.nc, client.names.queue.stream, 'echo', 1))[0] ?? false, { intervalMs: 10 });
    expect((await runs.start(t, next, true))!.attempt).toBe(2);
    next.ack();
  });

  it("the consumer's last delivery dead-letters a task that never started", async () => {
    const t = task();
    const dlq = collectMessages<DeadLetter>(client.nc, client.names.deadLetters.subject('echo'));
    await dlq.ready;
    await lifecycle.submit(t, {});
    const m = await redeliveredUnstarted(taskMaxDeliver(RETRY.maxAttempts) - 1);
    expect(await runs.start(t, m, true)).toBeUndefined();
    expect(await stored(t)).toMatchObject({ status: 'dead_lettered', error: expect.objectContaining({ code: 'TASK.UNDELIVERED', attempt: 1 }) });
    expect((await dlq.waitForCount(1))[0].data).toMatchObject({ task: { taskId: t.taskId } });
    await dlq.stop();
  });

  it('a task whose running attempts never reported (its workers died) is dead-lettered past the budget', async () => {
    const t = task();
    await lifecycle.submit(t, {});
    let m = await take();
    for (let i = 0; i < RETRY.maxAttempts; i++) {
      expect(await runs.start(t, m, true)).toBeDefined(); // running, then its worker is gone: the message comes back
      m.nak(0);
      m = await eventually(async () => (await pullNoWait(client.nc, client.names.queue.stream, 'echo', 1))[0] ?? false, { intervalMs: 10 });
    }
    expect(await runs.start(t, m, true)).toBeUndefined();
    expect(await stored(t)).toMatchObject({ status: 'dead_lettered', error: expect.objectContaining({ code: 'WORKER.LOST', attempt: RETRY.maxAttempts + 1 }) });
  });

  /**
   * The real store, with faults of a NATS leader election injected into its next writes:
   * `refuse` throws before writing (no responders), `lose-reply` writes and then throws (the
   * reply was lost: a timeout).
   */
  function troubledStore(faults: Array<'refuse' | 'lose-reply'>): TaskStore {
    const real = deps.store;
    const store = Object.create(real) as TaskStore;
    store.replace = async (next, revision) => {
      const fault = faults.shift();
      if (fault === 'refuse') throw Object.assign(new Error('no responders: $KV'), { name: 'NoRespondersError' });
      const rev = await real.replace(next, revision);
      if (fault === 'lose-reply') throw Object.assign(new Error('timed out: $KV'), { name: 'TimeoutError' });
      return rev;
    };
    return store;
  }

  it('an outcome write that storage trouble refuses is retried until it lands; the task is not left to run again', async () => {
    const faults: Array<'refuse' | 'lose-reply'> = [];
    const troubled = new TaskRuns({ ...deps, store: troubledStore(faults) });
    const t = task();
    await lifecycle.submit(t, {});
    const m = await take();
    const run = (await troubled.start(t, m, true))!;
    faults.push('refuse', 'refuse');
    expect(await run.complete({ out: 'late' })).toBe('stored');
    expect(faults).toEqual([]);
    expect(await stored(t)).toMatchObject({ status: 'succeeded', result: { out: 'late' } });
    // Settled (acked): it does not come back to run again.
    expect(m.isSettled).toBe(true);
  });

  it('an outcome write whose reply was lost counts as stored once a retry finds it written', async () => {
    const faults: Array<'refuse' | 'lose-reply'> = [];
    const troubled = new TaskRuns({ ...deps, store: troubledStore(faults) });
    const t = task();
    await lifecycle.submit(t, {});
    const run = (await troubled.start(t, await take(), true))!;
    faults.push('lose-reply');
    expect(await run.complete({ out: 1 })).toBe('stored');
    expect(await stored(t)).toMatchObject({ status: 'succeeded', result: { out: 1 } });
    // A retry after a lost reply is not a second result: another run's outcome still loses.
    const t2 = task();
    await lifecycle.submit(t2, {});
    const first = (await troubled.start(t2, await take(), true))!;
    await lifecycle.cancel(t2.tenantId, t2.taskId);
    faults.push('lose-reply');
    expect(await first.complete({ out: 2 })).toBe('superseded');
    expect(await stored(t2)).toMatchObject({ status: 'cancelled' });
  });

  it('a redrive queues a dead-lettered task again under the same record, once', async () => {
    const t = task();
    await lifecycle.submit(t, {});
    await (await runs.start(t, await take(), true))!.fail({ code: 'X', message: 'no' });
    // Not dead-lettered: refused, nothing queued.
    expect(await lifecycle.redrive(t, `${t.taskId}.redrive.1`)).toEqual({ conflict: expect.stringMatching(/failed/) });
    const rec = (await lifecycle.store.get(t.tenantId, t.taskId))!;
    await lifecycle.store.replace({ ...rec.record, status: 'dead_lettered' }, rec.revision);
    const out = await lifecycle.redrive({ ...t, input: { edited: true } }, `${t.taskId}.redrive.1`);
    expect(out).toMatchObject({ record: { status: 'queued', attempts: 0, errors: [], input: { edited: true } } });
    const m = await take();
    expect(JSON.parse(new TextDecoder().decode(m.data))).toMatchObject({ taskId: t.taskId, input: { edited: true } });
    m.ack();
  });

  it('cancel and time-out end a task elsewhere: the agent is told to abort and every gateway hears it', async () => {
    const t = task();
    const ended = collectMessages<{ taskId: string }>(client.nc, client.names.internal.taskEnded);
    const abort = collectMessages(client.nc, client.names.internal.taskAbort(t.taskId));
    await Promise.all([ended.ready, abort.ready]);
    await lifecycle.submit(t, {});
    expect(await lifecycle.cancel(t.tenantId, t.taskId)).toMatchObject({ applied: true, current: { record: { status: 'cancelled' } } });
    expect(await lifecycle.cancel(t.tenantId, t.taskId)).toMatchObject({ applied: false });
    expect((await ended.waitForCount(1))[0].data).toEqual({ tenantId: t.tenantId, taskId: t.taskId });
    await abort.waitForCount(1);
    // Its queued copy is dropped when a worker takes it.
    expect(await runs.start(t, await take(), true)).toBeUndefined();
    const late = task();
    await lifecycle.submit(late, {});
    expect(await lifecycle.timeOut(late.tenantId, late.taskId, false)).toMatchObject({ applied: false });
    expect(await lifecycle.timeOut(late.tenantId, late.taskId, true)).toMatchObject({ applied: true, current: { record: { status: 'timed_out' } } });
    (await take()).ack();
    await Promise.all([ended.stop(), abort.stop()]);
  });

  it('reclaim takes a task back from a dead holder: a copy runs from the record as left, the zombie can neither store nor keep it', async () => {
    const t = task();
    await lifecycle.submit(t, {});
    const zombieMsg = await take();
    const zombie = (await runs.start(t, zombieMsg, true))!;
    const cur = (await lifecycle.store.get(t.tenantId, t.taskId))!;
    const rev = await lifecycle.reclaim(cur.record, cur.revision);
    expect(rev).toBeGreaterThan(cur.revision);
    // The holder changed since: a second reclaim of the same view does nothing.
    expect(await lifecycle.reclaim(cur.record, cur.revision)).toBeUndefined();
    expect(await zombie.keepAlive()).toBe(false);
    expect(await zombie.lost()).toBe(true);
    // The copy carries the revision it may start from, and starts under a new epoch.
    const copyMsg = (await pullNoWait(client.nc, client.names.queue.stream, 'echo', 2)).find((m) => m.headers?.has(Headers.Reclaimed))!;
    expect(Number(copyMsg.headers?.get(Headers.Reclaimed))).toBe(rev);
    const copy = (await runs.start(t, copyMsg, true))!;
    expect(copy.lease).toEqual({ agentId: 'w1', epoch: 2 });
    expect(await zombie.complete('late')).toBe('superseded');
    expect(await copy.complete('right')).toBe('stored');
    expect(await stored(t)).toMatchObject({ status: 'succeeded', result: 'right' });
    zombieMsg.ack();
  });
});
