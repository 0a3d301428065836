/**
 * The dispatcher as the gateway wires it (dispatch.providers.ts) against real NATS: the work
 * queue, task records, the agent registry and resilience buckets, and a tenancy stand-in that
 * answers the slots endpoint on the bus. What the bundled worker used to decide for itself is
 * checked here from outside: the breakers gate what an agent is handed (and a breaker that opens
 * up wakes its waiting take), every lease's end reaches recovery as an outcome of its agent, and
 * a tenant's tasks start only with one of its slots, parked meanwhile without spending a delivery.
 *
 * Takes are called on the Dispatcher directly (the protocol's NATS adapter is covered by the e2e
 * suites; the enqueue hint it delivers is given by hand). The task source polls only every 60 s
 * here, so a take that gets work after waiting was woken by the behaviour under test, not by the
 * poll.
 */
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { KV } from '@nats-io/kv';
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type BreakerState, Headers, type LeasedTask, type OutcomeBatch, type QueuedTask, type SlotReply, type SlotRequest } from '@sb/contracts';
import { coreImports, NatsClient, pullNoWait, Topology } from '@sb/messaging';
import { createLogger } from '@sb/observability';
import { BreakerGate, newTaskId, TaskInfrastructure, TaskLifecycle, TasksModule } from '@sb/tasks';
import { cleanupJetStream, collectMessages, eventually, testEnv, uniquePrefix, waitForMessage } from '@sb/testing';
import { loadGatewayConfig } from '../config';
import { dispatchProviders } from './dispatch.providers';
import { Dispatcher } from './dispatcher';
import { TaskSource } from './task-source';

jest.setTimeout(30_000);

const LEASE_MS = 1_500;

/** Tenancy's slots endpoint: a ceiling per tenant (none: unlimited), every request logged. */
class TenancyStandIn {
  readonly held = new Map<string, Set<string>>();
  readonly log: string[] = [];
  peak = new Map<string, number>();
  private sub?: { unsubscribe(): void };
  constructor(
    private readonly client: NatsClient,
    private readonly ceilings: Record<string, number>,
  ) {}
  start() {
    this.sub = this.client.nc.subscribe(this.client.names.internal.tenancySlots, { callback: (_e, m) => this.answer(m) });
    return this.client.nc.flush();
  }
  /** Tenancy stops answering (requests time out). */
  stop() {
    this.sub?.unsubscribe();
  }
  private answer(m: Msg) {
    const r = JSON.parse(new TextDecoder().decode(m.data)) as SlotRequest;
    this.log.push(`${r.op} ${r.taskId}`);
    const mine = this.held.get(r.tenantId) ?? new Set<string>();
    this.held.set(r.tenantId, mine);
    let reply: SlotReply = { granted: false };
    if (r.op === 'release') mine.delete(r.taskId);
    else if (r.op === 'renew') reply = { granted: mine.has(r.taskId) };
    else if (mine.has(r.taskId) || mine.size < (this.ceilings[r.tenantId] ?? Infinity)) {
      mine.add(r.taskId);
      this.peak.set(r.tenantId, Math.max(this.peak.get(r.tenantId) ?? 0, mine.size));
      reply = { granted: true };
    } else reply = { granted: false, retryAfterMs: 30_000 };
    m.respond(new TextEncoder().encode(JSON.stringify(reply)));
  }
}

describe('Dispatcher over real NATS', () => {
  const prefix = uniquePrefix();
  let app: INestApplicationContext;
  let client: NatsClient;
  let dispatcher: Dispatcher;
  let lifecycle: TaskLifecycle;
  let infra: TaskInfrastructure;
  let resilience: KV;
  let tenancy: TenancyStandIn;

  const breaker = (agentId: string, capability: string, s: BreakerState['state'], probes = 1): BreakerState => ({
    scope: 'agent', key: `${agentId}.${capability}`, capability, agentId, state: s, since: new Date().toISOString(), retryAt: null, reason: null, failures: 3, attempts: 3, consecutive: 3, probes, epoch: 1,
  });
  /** Put a breaker state and wait until the dispatcher's gate follows it. */
  async function setBreaker(agentId: string, capability: string, s: BreakerState['state'], probes = 1) {
    await resilience.put(`breaker.agent.${agentId}.${capability}`, JSON.stringify(breaker(agentId, capability, s, probes)));
    const want = s === 'open' ? 0 : s === 'half_open' ? probes : 100;
    await eventually(() => app.get(BreakerGate).allow(agentId, capability, 100) === want, { description: `gate follows ${agentId}.${capability} ${s}` });
  }
  async function register(agentId: string, capabilities: string[]) {
    await app.get(Topology).bucket('agents').put(agentId, JSON.stringify({ registration: { agentId, capabilities } }));
  }
  async function submit(tenantId: string, capability: string, o: { maxConcurrent?: number; timeoutMs?: number } = {}): Promise<QueuedTask> {
    const now = new Date();
    const timeoutMs = o.timeoutMs ?? 30_000;
    const task: QueuedTask = { taskId: newTaskId(), tenantId, capability, priority: 'normal', input: {}, metadata: {}, timeoutMs, deadlineAt: new Date(now.getTime() + timeoutMs).toISOString(), createdAt: now.toISOString() };
    await lifecycle.submit(task, { maxConcurrent: o.maxConcurrent });
    // The enqueue hint, as the protocol's NATS adapter (not part of this module) delivers it.
    app.get(TaskSource).hinted(capability);
    return task;
  }
  const take = (agentId: string, max = 1, waitMs = 0) => dispatcher.take(agentId, { max, waitMs });
  const status = async (t: { tenantId: string; taskId: string }) => (await infra.store.get(t.tenantId, t.taskId))?.record.status;
  const ids = (ts: LeasedTask[]) => ts.map((t) => t.taskId).sort();

  beforeAll(async () => {
    const logger = createLogger('gateway', 'silent');
    const config = loadGatewayConfig({ NATS_URL: testEnv().natsUrl, SB_PREFIX: prefix, REQUEST_TIMEOUT_MS: '1000', TASK_ACK_WAIT_MS: String(LEASE_MS), TASK_BACKOFF_BASE_MS: '10', TASK_BACKOFF_MAX_MS: '20', DISPATCH_OUTCOME_FLUSH_MS: '50', TASK_RUNNING_RECORD_MS: '200', LOG_LEVEL: 'silent' });
    const mod = await Test.createTestingModule({ imports: [...coreImports('gateway', config, logger), TasksModule.forRoot()], providers: dispatchProviders })
      .overrideProvider(TaskSource)
      .useFactory({ inject: [NatsClient, Topology], factory: (c: NatsClient, t: Topology) => new TaskSource(c.nc, c.names, t, 60_000) })
      .compile();
    client = mod.get(NatsClient);
    tenancy = new TenancyStandIn(client, { tnSlots: 1, tnCancel: 1, tnStop: 1 });
    await tenancy.start();
    app = await mod.init();
    dispatcher = app.get(Dispatcher);
    lifecycle = app.get(TaskLifecycle);
    infra = app.get(TaskInfrastructure);
    resilience = app.get(Topology).bucket('resilience');
    await register('gA', ['gated']);
    await register('gB', ['gated']);
    await register('oc', ['echo', 'llm']);
    await register('sA', ['slotted']);
    await register('sB', ['slotted']);
  });
  afterAll(async () => {
    tenancy?.stop();
    await app?.close();
    const nc: NatsConnection = await connect({ servers: testEnv().natsUrl });
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  it('an open breaker hands its agent nothing of the capability while another agent gets it; half-open hands out the probes; closing wakes a waiting take', async () => {
    await setBreaker('gA', 'gated', 'open');
    const [t1, t2, t3] = [await submit('tnG', 'gated'), await submit('tnG', 'gated'), await submit('tnG', 'gated')];
    expect(await take('gA', 3, 200)).toEqual([]);
    const toB = await take('gB', 1);
    expect(toB.map((t) => t.taskId)).toEqual([t1.taskId]);

    await setBreaker('gA', 'gated', 'half_open', 1);
    const probe = await take('gA', 3);
    expect(probe.map((t) => t.taskId)).toEqual([t2.taskId]);
    expect(await take('gA', 3, 200)).toEqual([]); // the period's one probe is spent; t3 stays queued
    expect(await status(t3)).toBe('queued');

    const waiting = take('gA', 3, 20_000);
    const closedAt = Date.now();
    await setBreaker('gA', 'gated', 'closed');
    expect((await waiting).map((t) => t.taskId)).toEqual([t3.taskId]);
    expect(Date.now() - closedAt).toBeLessThan(5_000);
    for (const t of [...toB, ...probe]) await dispatcher.complete(t.lease.taskId === t1.taskId ? 'gB' : 'gA', { lease: t.lease, result: 'ok' });
  });

  it('records each lease’s end as an outcome of its agent, batched per agent on the outcomes subject', async () => {
    const outcomes = collectMessages<OutcomeBatch>(client.nc, client.names.resilience.outcomes('oc'));
    await outcomes.ready;
    const one = async (capability = 'echo', o: { timeoutMs?: number } = {}) => {
      const t = await submit('tnO', capability, o);
      const [leased] = await take('oc', 1);
      expect(leased.taskId).toBe(t.taskId);
      return leased;
    };
    await dispatcher.complete('oc', { lease: (await one()).lease, result: { ok: true } });
    await dispatcher.fail('oc', { lease: (await one('llm')).lease, error: { code: 'UPSTREAM.DOWN', message: 'x', class: 'dependency', retryable: false } });
    await dispatcher.fail('oc', { lease: (await one()).lease, error: { code: 'SLOW', message: 'x', class: 'rate_limited', retryable: false } });
    await dispatcher.fail('oc', { lease: (await one()).lease, error: { code: 'BUG', message: 'x', class: 'agent_error', retryable: false } });
    const late = await one('echo', { timeoutMs: 300 }); // its deadline passes while leased
    const idle = await one(); // never kept alive: the lease runs out
    const cancelled = await one();
    await lifecycle.cancel(cancelled.tenantId, cancelled.taskId);
    dispatcher.aborted(cancelled.taskId);
    await eventually(async () => (await status(late)) === 'timed_out', { description: 'the deadline passed while leased' });
    // The idle lease runs out after LEASE_MS (its outcome: a second timeout); then the agent goes down holding another.
    await eventually(() => sum().echo.timeout === 2, { timeoutMs: 5_000, description: 'the idle lease ran out' });
    await submit('tnO', 'llm');
    const [held] = await dispatcher.take('oc', { capabilities: ['llm'], max: 1, waitMs: 0 });
    expect(dispatcher.keepAlive('oc', [idle.lease, held.lease]).leases.map((l) => l.held)).toEqual([false, true]);
    expect(dispatcher.agentDown('oc')).toBe(1);
    await eventually(() => expect(sum()).toEqual({ echo: { ok: 1, rate_limited: 1, agent_error: 1, timeout: 2, cancelled: 1 }, llm: { dependency: 1, worker_lost: 1 } }));
    for (const m of outcomes.messages) expect(m.data).toMatchObject({ agentId: 'oc', capabilities: ['echo', 'llm'] });
    await outcomes.stop();

    function sum() {
      const tallies = outcomes.messages.flatMap((m) => m.data.tallies);
      const count = (c: string, k: string) => tallies.filter((t) => t.capability === c).reduce((a, t) => a + (k === 'ok' ? t.ok : ((t.failed as Record<string, number>)[k] ?? 0)), 0);
      return {
        echo: { ok: count('echo', 'ok'), rate_limited: count('echo', 'rate_limited'), agent_error: count('echo', 'agent_error'), timeout: count('echo', 'timeout'), cancelled: count('echo', 'cancelled') },
        llm: { dependency: count('llm', 'dependency'), worker_lost: count('llm', 'worker_lost') },
      };
    }
  });

  it("a tenant's tasks start only with one of its slots: the rest wait parked (no delivery spent), other tenants' do not, and a freed slot wakes a waiting take", async () => {
    const [s1, s2, s3] = [await submit('tnSlots', 'slotted', { maxConcurrent: 1 }), await submit('tnSlots', 'slotted', { maxConcurrent: 1 }), await submit('tnSlots', 'slotted', { maxConcurrent: 1 })];
    const other = await submit('tnFree', 'slotted');
    const first = await take('sA', 4);
    expect(ids(first)).toEqual([s1.taskId, other.taskId].sort());
    expect([await status(s2), await status(s3)]).toEqual(['queued', 'queued']);
    // The held slot is renewed while its lease lasts.
    await eventually(() => tenancy.log.includes(`renew ${s1.taskId}`), { description: 'slot renewed' });

    const waiting = take('sB', 1, 20_000);
    const s1Lease = first.find((t) => t.taskId === s1.taskId)!.lease;
    dispatcher.keepAlive('sA', [s1Lease]);
    await dispatcher.complete('sA', { lease: s1Lease, result: 'done' });
    const [next] = await waiting;
    expect(next).toMatchObject({ taskId: s2.taskId, deliveryCount: 1 });
    expect(tenancy.log.indexOf(`release ${s1.taskId}`)).toBeLessThan(tenancy.log.lastIndexOf(`acquire ${s2.taskId}`));
    await dispatcher.fail('sB', { lease: next.lease, error: { code: 'NOPE', message: 'x', class: 'agent_error', retryable: false } });
    const [third] = await take('sA', 1, 5_000);
    expect(third).toMatchObject({ taskId: s3.taskId, deliveryCount: 1 });
    await dispatcher.complete('sA', { lease: third.lease, result: 'done' });
    await dispatcher.complete('sA', { lease: first.find((t) => t.taskId === other.taskId)!.lease, result: 'done' });
    expect(tenancy.peak.get('tnSlots')).toBe(1);
    await eventually(() => tenancy.held.get('tnSlots')?.size === 0, { description: 'every slot given back' });
  });

  it('fails closed: while tenancy does not answer, a task of a tenant with a ceiling is not handed out; once it answers, it is', async () => {
    tenancy.stop();
    const t = await submit('tnSlots', 'slotted', { maxConcurrent: 1 });
    expect(await take('sA', 1, 1_500)).toEqual([]);
    expect(await status(t)).toBe('queued');
    await tenancy.start();
    const [got] = await take('sA', 1, 10_000);
    expect(got).toMatchObject({ taskId: t.taskId, deliveryCount: 1 });
    await dispatcher.complete('sA', { lease: got.lease, result: 'done' });
  });

  it('a parked task that is cancelled is settled (never handed out); one past its deadline times out', async () => {
    const holder = await submit('tnCancel', 'slotted', { maxConcurrent: 1 });
    const [h] = await take('sA', 1);
    expect(h.taskId).toBe(holder.taskId);
    const doomed = await submit('tnCancel', 'slotted', { maxConcurrent: 1 });
    const late = await submit('tnCancel', 'slotted', { maxConcurrent: 1, timeoutMs: 600 });
    expect(await take('sB', 2, 100)).toEqual([]);
    expect(dispatcher.parkedTasks).toBe(2);
    await lifecycle.cancel(doomed.tenantId, doomed.taskId);
    dispatcher.aborted(doomed.taskId);
    await eventually(async () => (await status(late)) === 'timed_out', { description: 'the parked task timed out' });
    expect(dispatcher.parkedTasks).toBe(0);
    await dispatcher.complete('sA', { lease: h.lease, result: 'done' });
    expect(await take('sB', 2, 300)).toEqual([]);
    expect(await status(doomed)).toBe('cancelled');
    const info = await client.jsm.consumers.info(client.names.queue.stream, client.names.queue.consumer('slotted', 'normal'));
    expect([info.num_pending, info.num_ack_pending]).toEqual([0, 0]);
  });

  it('a take that arrives after its agent was declared down gets nothing until the agent registers again', async () => {
    const registry = app.get(Topology).bucket('agents');
    await registry.put('late', JSON.stringify({ registration: { agentId: 'late', capabilities: ['late'] }, registeredAt: 1_000 }));
    const t = await submit('tnL', 'late');
    // Down at 2 000 (the collector's clock), after its registration: a take it sent before dying, delivered now.
    dispatcher.agentDown('late', 2_000);
    const asked = Date.now();
    expect(await take('late', 1, 300)).toEqual([]);
    // It waits out its time like any empty take (an agent does not spin on a dispatcher that will not serve it).
    expect(Date.now() - asked).toBeGreaterThanOrEqual(290);
    expect(await status(t)).toBe('queued');
    // Registered again after the down (the `up` event missed: the registry says so): it is handed work.
    await registry.put('late', JSON.stringify({ registration: { agentId: 'late', capabilities: ['late'] }, registeredAt: 3_000 }));
    const got = await eventually(async () => {
      const ts = await take('late', 1, 0);
      return ts.length ? ts : false;
    }, { description: 'handed work once registered again' });
    expect(got.map((x) => x.taskId)).toEqual([t.taskId]);
    await dispatcher.complete('late', { lease: got[0].lease, result: 'ok' });
  });

  describe('the running record, deferred (TASK_RUNNING_RECORD_MS=200)', () => {
    beforeAll(() => register('rc', ['deferred']));
    const statusesOf = (c: { messages: { subject: string }[] }) => c.messages.map((m) => m.subject.split('.').pop());

    it('a task done sooner goes from queued to its outcome in one write, its running event still sent; the outcome names its lease, agent and start', async () => {
      const events = collectMessages(client.nc, `${client.names.prefix}.v1.tasks.events.tnR.>`);
      await events.ready;
      const t = await submit('tnR', 'deferred');
      // Every write of the record from here on: each is a message on its KV subject.
      const bucket = (app.get(Topology).bucket('tasks') as unknown as { bucket: string }).bucket;
      const kvWrites = collectMessages<{ status: string }>(client.nc, `$KV.${bucket}.${t.tenantId}.${t.taskId}`);
      await kvWrites.ready;
      const [got] = await take('rc', 1);
      expect(got).toMatchObject({ taskId: t.taskId, lease: { epoch: 1 } });
      expect(await status(t)).toBe('queued');
      await dispatcher.complete('rc', { lease: got!.lease, result: 'done' });
      await events.waitForCount(3);
      await client.nc.flush();
      const writes = kvWrites.messages.map((m) => m.data.status);
      await kvWrites.stop();
      expect(writes).toEqual(['succeeded']);
      const done = (await infra.store.get(t.tenantId, t.taskId))!;
      expect(done.record).toMatchObject({ status: 'succeeded', agentId: 'rc', attempts: 1, lease: { agentId: 'rc', epoch: 1 }, result: 'done' });
      expect(done.record.startedAt).toEqual(expect.any(String));
      expect(statusesOf(events)).toEqual(['queued', 'running', 'succeeded']);
      await events.stop();
    });

    it('a task still running after it is recorded running; its one running event went out at the start', async () => {
      const events = collectMessages(client.nc, `${client.names.prefix}.v1.tasks.events.tnR2.>`);
      await events.ready;
      const t = await submit('tnR2', 'deferred');
      const [got] = await take('rc', 1);
      await events.waitForCount(2);
      expect(statusesOf(events)).toEqual(['queued', 'running']);
      await eventually(async () => (await infra.store.get(t.tenantId, t.taskId))!.record.status === 'running', { description: 'the deferred running record written' });
      expect((await infra.store.get(t.tenantId, t.taskId))!.record).toMatchObject({ status: 'running', lease: { agentId: 'rc', epoch: 1 } });
      await client.nc.flush();
      expect(statusesOf(events)).toEqual(['queued', 'running']);
      await dispatcher.complete('rc', { lease: got!.lease, result: 'done' });
      expect(await status(t)).toBe('succeeded');
      await events.stop();
    });

    it('a task cancelled while queued and handed out before the write: the write loses, the agent is told to abort, the message is settled and nothing is stored', async () => {
      const t = await submit('tnR3', 'deferred');
      await lifecycle.cancel(t.tenantId, t.taskId);
      const abort = waitForMessage<{ taskId: string; reason: string }>(client.nc, client.names.agents.work('rc', 'abort'), { filter: (m) => m.data.taskId === t.taskId });
      await abort.ready;
      const [got] = await take('rc', 1);
      expect(got?.taskId).toBe(t.taskId);
      expect((await abort).data.reason).toBe('cancelled');
      await expect(dispatcher.complete('rc', { lease: got!.lease, result: 'late' })).rejects.toThrow();
      expect((await infra.store.get(t.tenantId, t.taskId))!.record).toMatchObject({ status: 'cancelled' });
      await eventually(async () => (await client.jsm.consumers.info(client.names.queue.stream, client.names.queue.consumer('deferred', 'normal'))).num_ack_pending === 0, {
        description: 'the cancelled task’s message settled',
      });
    });
  });

  it('on stop, parked tasks go back to the queue at once and held slots are given back', async () => {
    const held = await submit('tnStop', 'slotted', { maxConcurrent: 1 });
    const parked = await submit('tnStop', 'slotted', { maxConcurrent: 1 });
    const got = await take('sA', 2, 100);
    expect(got.map((t) => t.taskId)).toEqual([held.taskId]);
    expect(dispatcher.parkedTasks).toBe(1);
    await dispatcher.stop();
    expect(tenancy.log).toContain(`release ${held.taskId}`);
    expect(tenancy.held.get('tnStop')?.size).toBe(0);
    // Both messages are back for another dispatcher at once (not after the ack wait); the parked one never started.
    expect(await status(parked)).toBe('queued');
    const back = await pullNoWait(client.nc, client.names.queue.stream, client.names.queue.consumer('slotted', 'normal'), 5);
    expect(back.map((m) => m.headers?.get(Headers.TaskId)).sort()).toEqual([held.taskId, parked.taskId].sort());
    for (const m of back) m.ack();
  });
});
