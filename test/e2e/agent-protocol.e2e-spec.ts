/**
 * Agent protocol v1 from outside, with a plain NATS client as the agent (docs/agent-protocol.md):
 * register, take a leased task, keep it alive, complete it; and every refusal the protocol
 * promises (another agent's lease, a stale epoch, a capability not registered, a malformed body),
 * each changing nothing and recorded as a security event. The gateway's dispatcher serves the
 * verbs; the collector registers agents and declares them down.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { LeasedTask, SecurityEvent } from '@sb/contracts';
import { collectMessages, eventually } from '@sb/testing';
import { startCollector } from './support/collector';
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { natsRequest } from './support/nats-client';

jest.setTimeout(60_000);

describe('agent protocol v1 (dispatcher)', () => {
  let fleet: Fleet;
  let nc: NatsConnection;
  let key: string;
  const subject = (agentId: string, verb: string, dispatcher?: string) => `${fleet.prefix}.v1.agents.${agentId}.${verb}${dispatcher ? `.${dispatcher}` : ''}`;
  /** Each agent's session, from its registration: every later request carries it. */
  const sessions = new Map<string, string>();
  const register = async (agentId: string, capabilities: string[], heartbeatIntervalMs = 1_000) => {
    const r = await natsRequest(nc, `${fleet.prefix}.v1.agents.register`, { agentId, capabilities, maxConcurrency: 4, heartbeatIntervalMs }, { key: fleet.agentKey });
    if (r.body?.session) sessions.set(agentId, r.body.session);
    return r;
  };
  /** A request as `agentId` (with its session) to one of its subjects. */
  const as = <T = any>(agentId: string, verb: string, dispatcher: string | undefined, body: unknown, session = sessions.get(agentId)) =>
    natsRequest<T>(nc, subject(agentId, verb, dispatcher), body, { headers: session ? { 'Sb-Agent-Session': session } : {} });
  const submit = async (input: unknown) => {
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'summarize', input } });
    expect(r.status).toBe(202);
    return r.body.taskId as string;
  };
  const take = async (agentId: string, body: object = { max: 1, waitMs: 5_000 }) => as<{ tasks: LeasedTask[] }>(agentId, 'take', undefined, body);
  const task = async (taskId: string) => (await http(fleet.httpUrl, 'GET', `/v1/tasks/${taskId}`, { key })).body;
  /** The record once it says running (written TASK_RUNNING_RECORD_MS into the run): anything else it becomes meanwhile fails the wait. */
  const recordedRunning = (taskId: string) =>
    eventually(async () => {
      const t = await task(taskId);
      return t.status === 'running' ? t : t.status === 'queued' ? false : Promise.reject(new Error(`task ${taskId} is ${t.status}`));
    }, { description: `task ${taskId} recorded running` });

  beforeAll(async () => {
    fleet = await startFleet({ workers: 0, collectorEnv: false, gatewayEnv: { TASK_BACKOFF_BASE_MS: '50', TASK_BACKOFF_MAX_MS: '100' } });
    nc = fleet.nc;
    await startCollector(fleet, { LIVENESS_SWEEP_MS: '100', LIVENESS_MISSED_BEATS: '3' });
    ({ key } = await tenantWithKey(fleet.httpUrl, fleet.adminKey));
    expect((await register('summarizer-1', ['summarize'])).errorCode).toBeUndefined();
    expect((await register('summarizer-2', ['summarize'])).errorCode).toBeUndefined();
  });
  afterAll(() => fleet?.stop());

  it('leases a task to the agent that takes it, keeps it alive, and stores its result once', async () => {
    const taskId = await submit({ text: 'hello' });
    const got = await take('summarizer-1');
    expect(got.errorCode).toBeUndefined();
    const [t] = got.body.tasks;
    expect(t).toMatchObject({ taskId, capability: 'summarize', input: { text: 'hello' }, deliveryCount: 1, idempotencyKey: taskId, lease: { taskId, epoch: 1 } });
    expect(t.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect(await recordedRunning(taskId)).toMatchObject({ status: 'running', agentId: 'summarizer-1' });

    const kept = await as('summarizer-1', 'keepalive', t.dispatcher, { leases: [t.lease] });
    expect(kept.body).toEqual({ leases: [{ taskId, held: true }] });
    // Progress reaches the task's running event (and so its SSE stream) and the record.
    const progress = collectMessages<{ status: string; progress?: unknown }>(nc, `${fleet.prefix}.v1.tasks.events.${t.tenantId}.${taskId}.running`, { filter: (m) => m.data.progress !== undefined });
    await progress.ready;
    expect((await as('summarizer-1', 'progress', t.dispatcher, { lease: t.lease, progress: { pct: 50 } })).body).toEqual({ ok: true });
    expect((await progress.waitForCount(1))[0].data).toMatchObject({ status: 'running', progress: { pct: 50 } });
    await progress.stop();
    expect((await task(taskId)).progress).toEqual({ pct: 50 });
    const done = await as('summarizer-1', 'complete', t.dispatcher, { lease: t.lease, result: { summary: 'hi' } });
    expect(done.body).toEqual({ status: 'succeeded' });
    expect(await task(taskId)).toMatchObject({ status: 'succeeded', result: { summary: 'hi' }, agentId: 'summarizer-1', attempts: 1 });
    // Completing again: the lease ended with the task.
    const again = await as('summarizer-1', 'complete', t.dispatcher, { lease: t.lease, result: { summary: 'twice' } });
    expect(again.errorCode).toBe('409');
    expect((await task(taskId)).result).toEqual({ summary: 'hi' });
  });

  it("refuses another agent's lease (complete, fail and keep-alive), a stale epoch, an unregistered capability and a malformed body, changing nothing, each a security event", async () => {
    const refusals = collectMessages<SecurityEvent>(nc, `${fleet.prefix}.security.events.agent_refused`);
    await refusals.ready;
    const taskId = await submit({ text: 'mine' });
    const [t] = (await take('summarizer-1')).body.tasks;
    expect(t.taskId).toBe(taskId);

    const stolen = await as('summarizer-2', 'complete', t.dispatcher, { lease: t.lease, result: 'stolen' });
    expect(stolen).toMatchObject({ errorCode: '409', body: { error: { code: 'AGENT.NOT_LEASED', retryable: false } } });
    const failedForIt = await as('summarizer-2', 'fail', t.dispatcher, { lease: t.lease, error: { code: 'SABOTAGE', message: 'not mine', class: 'agent_error', retryable: false } });
    expect(failedForIt).toMatchObject({ errorCode: '409', body: { error: { code: 'AGENT.NOT_LEASED' } } });
    const stale = await as('summarizer-1', 'complete', t.dispatcher, { lease: { ...t.lease, epoch: t.lease.epoch + 1 }, result: 'stale' });
    expect(stale).toMatchObject({ errorCode: '409', body: { error: { code: 'AGENT.LEASE_LOST' } } });
    const kept = await as('summarizer-2', 'keepalive', t.dispatcher, { leases: [t.lease] });
    expect(kept.body).toEqual({ leases: [{ taskId, held: false, reason: 'reclaimed' }] });
    const notMine = await take('summarizer-1', { capabilities: ['echo'], max: 1 });
    expect(notMine).toMatchObject({ errorCode: '403', body: { error: { code: 'AGENT.NOT_CAPABLE' } } });
    // An agent that never registered has no session to speak with.
    const stranger = await take('never-registered', { max: 1 });
    expect(stranger).toMatchObject({ errorCode: '401', body: { error: { code: 'AGENT.SESSION' } } });
    const malformed = await as('summarizer-1', 'fail', t.dispatcher, { lease: t.lease, error: { code: 'x y', message: 'm', retryable: true } });
    expect(malformed).toMatchObject({ errorCode: '400', body: { error: { code: 'REQUEST.INVALID' } } });
    expect(await recordedRunning(taskId)).toMatchObject({ status: 'running', agentId: 'summarizer-1' });

    const events = (await refusals.waitForCount(6)).map((m) => m.data);
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'agent_refused', agentId: 'summarizer-2', route: 'agents.complete', tenantId: t.tenantId }),
        expect.objectContaining({ type: 'agent_refused', agentId: 'summarizer-2', route: 'agents.keepalive', tenantId: t.tenantId }),
        expect.objectContaining({ type: 'agent_refused', agentId: 'summarizer-2', route: 'agents.fail', tenantId: t.tenantId }),
        expect.objectContaining({ type: 'agent_refused', agentId: 'summarizer-1', route: 'agents.complete', reason: expect.stringContaining('stale lease epoch') }),
        expect.objectContaining({ type: 'agent_refused', agentId: 'summarizer-1', route: 'agents.take' }),
        expect.objectContaining({ type: 'agent_refused', agentId: 'never-registered', route: 'agents.take', reason: 'no session' }),
      ]),
    );
    await refusals.stop();
    // The holder still finishes it.
    expect((await as('summarizer-1', 'complete', t.dispatcher, { lease: t.lease, result: 'ok' })).body).toEqual({ status: 'succeeded' });
  });

  it('refuses an agent that speaks without its session, or with another agent’s, changing nothing; its own session survives a re-registration', async () => {
    const refusals = collectMessages<SecurityEvent>(nc, `${fleet.prefix}.security.events.agent_refused`, { filter: (m) => m.data.route === 'agents.take' || m.data.route === 'agents.complete' });
    await refusals.ready;
    const taskId = await submit({ text: 'whose?' });
    const [t] = (await take('summarizer-1')).body.tasks;
    expect(t.taskId).toBe(taskId);
    const none = await as('summarizer-1', 'complete', t.dispatcher, { lease: t.lease, result: 'no session' }, '');
    expect(none).toMatchObject({ errorCode: '401', body: { error: { code: 'AGENT.SESSION' } } });
    const borrowed = await as('summarizer-1', 'complete', t.dispatcher, { lease: t.lease, result: 'borrowed' }, sessions.get('summarizer-2'));
    expect(borrowed).toMatchObject({ errorCode: '401', body: { error: { code: 'AGENT.SESSION' } } });
    const guessed = await as('summarizer-1', 'take', undefined, { max: 1 }, 'sbs_guessed');
    expect(guessed.errorCode).toBe('401');
    expect(await recordedRunning(taskId)).toMatchObject({ status: 'running', agentId: 'summarizer-1' });
    const events = (await refusals.waitForCount(3)).map((m) => m.data);
    expect(events.map((e) => [e.agentId, e.reason])).toEqual([
      ['summarizer-1', 'no session'],
      ['summarizer-1', 'session of another agent, or a stale one'],
      ['summarizer-1', 'session of another agent, or a stale one'],
    ]);
    await refusals.stop();
    // Registering again with its session keeps it; the holder finishes the task.
    const mine = sessions.get('summarizer-1')!;
    const again = await natsRequest(nc, `${fleet.prefix}.v1.agents.register`, { agentId: 'summarizer-1', capabilities: ['summarize'], maxConcurrency: 4 }, { key: fleet.agentKey, headers: { 'Sb-Agent-Session': mine } });
    expect(again.body.session).toBe(mine);
    expect((await as('summarizer-1', 'complete', t.dispatcher, { lease: t.lease, result: 'mine' })).body).toEqual({ status: 'succeeded' });
  });

  it('retries a retryable failure under a new epoch, refuses the old lease, and hands the next task with the outcome', async () => {
    const taskId = await submit({ text: 'flaky' });
    const [first] = (await take('summarizer-1')).body.tasks;
    const failed = await as('summarizer-1', 'fail', first.dispatcher, {
      lease: first.lease,
      error: { code: 'UPSTREAM.BUSY', message: 'try again', class: 'rate_limited', retryable: true, retryAfterMs: 100 },
      take: { max: 1, waitMs: 5_000 },
    });
    expect(failed.body.status).toBe('retrying');
    const second = failed.body.tasks?.[0] ?? (await take('summarizer-1')).body.tasks[0];
    expect(second).toMatchObject({ taskId, deliveryCount: 2, lease: { epoch: first.lease.epoch + 1 } });
    const late = await as('summarizer-1', 'complete', first.dispatcher, { lease: first.lease, result: 'late' });
    expect(late.body.error.code).toBe('AGENT.LEASE_LOST');
    expect((await as('summarizer-1', 'complete', second.dispatcher, { lease: second.lease, result: 'second' })).body.status).toBe('succeeded');
    expect(await task(taskId)).toMatchObject({ status: 'succeeded', result: 'second', attempts: 2 });
  });

  it('tells the holder of a cancelled task to stop, and refuses its result', async () => {
    const taskId = await submit({ text: 'cancel me' });
    const [t] = (await take('summarizer-1')).body.tasks;
    const aborts = collectMessages<{ taskId: string; reason: string }>(nc, subject('summarizer-1', 'abort'));
    await aborts.ready;
    expect((await http(fleet.httpUrl, 'DELETE', `/v1/tasks/${taskId}`, { key })).body.status).toBe('cancelled');
    const [notice] = await aborts.waitForCount(1);
    expect(notice.data).toMatchObject({ taskId, reason: 'cancelled', epoch: t.lease.epoch });
    const late = await as('summarizer-1', 'complete', t.dispatcher, { lease: t.lease, result: 'too late' });
    expect(late.body.error.code).toBe('AGENT.LEASE_LOST');
    expect((await task(taskId)).status).toBe('cancelled');
    await aborts.stop();
  });

  it('hands a down agent’s leases to another agent at once, not after the ack wait', async () => {
    // An agent that beats every 100 ms is down after 3 missed beats; it never beats at all.
    expect((await register('summarizer-3', ['summarize'], 100)).errorCode).toBeUndefined();
    const taskId = await submit({ text: 'orphan' });
    const [held] = (await take('summarizer-3')).body.tasks;
    expect(held.taskId).toBe(taskId);
    const reclaimed = await eventually(
      async () => {
        const r = await take('summarizer-1', { max: 1, waitMs: 1_000 });
        return r.body.tasks[0] ?? false;
      },
      { timeoutMs: 10_000, description: 'the down agent’s task is leased again' },
    );
    expect(reclaimed).toMatchObject({ taskId, deliveryCount: 2, lease: { epoch: held.lease.epoch + 1 } });
    expect((await as('summarizer-3', 'complete', held.dispatcher, { lease: held.lease, result: 'ghost' })).body.error.code).toBe('AGENT.LEASE_LOST');
    expect((await as('summarizer-1', 'complete', reclaimed.dispatcher, { lease: reclaimed.lease, result: 'done' })).body.status).toBe('succeeded');
  });
});
