/**
 * Recovery's breakers, load shedding and dead letters against real NATS: outcome batches
 * open and close breakers (broadcast on the subject and kept in the bucket, with an alert),
 * queue depth against heartbeat capacity sheds and clears, and the dead-letter endpoints
 * list, inspect, redrive (once), delete and purge with tenant scoping.
 */
import type { INestApplication } from '@nestjs/common';
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type BreakerState, type DeadLetter, names, type OutcomeBatch, type QueuedTask, type ShedState, type TaskRecord } from '@sb/contracts';
import { createLogger, createServiceApp } from '@sb/observability';
import { newTaskId, TaskInfrastructure } from '@sb/tasks';
import { cleanupJetStream, collectMessages, eventually, testEnv, uniquePrefix, waitForMessage } from '@sb/testing';
import { loadRecoveryConfig } from '../config';
import { LeaderLease } from '../leader/leader-lease';
import { IncidentLog } from '../incidents/incident-log';
import { recoveryModule } from '../recovery.module';

jest.setTimeout(30_000);

const enc = new TextEncoder();

describe('recovery: breakers, shedding, dead letters', () => {
  const prefix = uniquePrefix();
  const n = names(prefix);
  let nc: NatsConnection;
  let app: INestApplication;
  let infra: TaskInfrastructure;

  async function request(subject: string, body: unknown): Promise<{ body: any; code?: string }> {
    const r = await nc.request(subject, enc.encode(JSON.stringify(body)), { timeout: 10_000 });
    return { body: r.json(), code: r.headers?.get('Nats-Service-Error-Code') || undefined };
  }

  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
    const config = loadRecoveryConfig({
      NATS_URL: testEnv().natsUrl,
      SB_PREFIX: prefix,
      LOG_LEVEL: 'silent',
      RECOVERY_LEASE_MS: '1000',
      BREAKER_CONSECUTIVE_FAILURES: '3',
      BREAKER_COOLDOWN_MS: '500',
      BREAKER_TICK_MS: '50',
      SHED_TICK_MS: '100',
      SHED_LOW_DEFICIT: '3',
      SHED_NORMAL_DEFICIT: '6',
      SHED_CLEAR_HOLD_MS: '0',
      // Capacity is never lost to an old heartbeat here, only to down/left events.
      SHED_AGENT_DOWN_AFTER_MS: '60000',
      DLQ_POISON_THRESHOLD: '2',
    });
    const { app: a } = await createServiceApp({ service: 'recovery', config, module: (l) => recoveryModule(config, l), logger: createLogger('recovery', 'silent') });
    await a.init();
    app = a;
    infra = app.get(TaskInfrastructure);
    await eventually(() => app.get(LeaderLease).isLeader(), { timeoutMs: 10_000, description: 'recovery leader' });
  });
  afterAll(async () => {
    await app?.close().catch(() => undefined);
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  const batch = (agentId: string, capability: string, ok: number, failures: number): OutcomeBatch => ({
    agentId,
    sentAt: Date.now(),
    capabilities: [capability],
    tallies: [{ capability, ok, failed: failures ? { agent_error: failures } : {}, sawSuccess: ok > 0, tail: Array(failures).fill('agent_error') }],
  });

  it('opens an agent breaker and its capability on consecutive failures, broadcasts and stores it, alerts, then half-opens and closes on a probe', async () => {
    const changes = collectMessages<BreakerState>(nc, n.resilience.breakers);
    const alerts = collectMessages<any>(nc, n.alerts.raise, { filter: (m) => (m.data as any).name === 'CircuitBreakerOpen' });
    await Promise.all([changes.ready, alerts.ready]);
    nc.publish(n.resilience.outcomes('w1'), JSON.stringify(batch('w1', 'summarize', 0, 3)));
    nc.publish(n.resilience.outcomes('w1'), 'not json'); // ignored
    const [agent, cap] = (await changes.waitForCount(2)).map((m) => m.data);
    expect(agent).toMatchObject({ scope: 'agent', key: 'w1.summarize', state: 'open', reason: 'consecutive_failures', consecutive: 3 });
    expect(cap).toMatchObject({ scope: 'capability', key: 'summarize', state: 'open', reason: 'all_agents_open' });
    const kv = await new Kvm(nc).open(n.resilience.bucket);
    expect((await kv.get('breaker.capability.summarize'))?.json<BreakerState>().state).toBe('open');
    const firing = await alerts.waitForCount(2);
    expect(firing.map((m) => m.data.state)).toEqual(['firing', 'firing']);
    expect(firing[1].data).toMatchObject({ severity: 'critical', labels: { scope: 'capability', capability: 'summarize' }, source: 'recovery' });
    const incident = await eventually(async () => (await app.get(IncidentLog).openFor('breaker:capability:summarize')) ?? false, { description: 'breaker incident' });
    expect(incident).toMatchObject({ kind: 'breaker_open', status: 'open', labels: { capability: 'summarize' } });
    expect(incident!.timeline.map((e) => e.type)).toContain('breaker_opened');

    // Cool-down: half-open (agent and capability), then a successful probe closes both.
    const half = await changes.waitForCount(4, { timeoutMs: 5_000 });
    expect(half.slice(2).map((m) => [m.data.scope, m.data.state])).toEqual([['agent', 'half_open'], ['capability', 'half_open']]);
    nc.publish(n.resilience.outcomes('w1'), JSON.stringify(batch('w1', 'summarize', 1, 0)));
    const closed = await changes.waitForCount(6);
    expect(closed.slice(4).map((m) => [m.data.scope, m.data.state])).toEqual([['agent', 'closed'], ['capability', 'closed']]);
    expect((await kv.get('breaker.agent.w1.summarize'))?.json<BreakerState>().state).toBe('closed');
    expect((await alerts.waitForCount(4)).slice(2).map((m) => m.data.state)).toEqual(['resolved', 'resolved']);
    await eventually(async () => (await app.get(IncidentLog).openFor('breaker:capability:summarize')) === undefined, { description: 'breaker incident resolved' });
    await Promise.all([changes.stop(), alerts.stop()]);
  });

  it('sheds low then normal when queued work exceeds free healthy slots, and clears when it drains', async () => {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    for (const p of ['high', 'normal', 'low'] as const) {
      await jsm.consumers.add(n.queue.stream, { durable_name: n.queue.consumer('translate', p), filter_subject: n.queue.subject('translate', p), ack_policy: AckPolicy.Explicit });
    }
    const registry = await new Kvm(nc).create(n.buckets.agents);
    await registry.put('a1', JSON.stringify({ registration: { agentId: 'a1', capabilities: ['translate'], maxConcurrency: 2 }, registeredAt: Date.now(), left: false }));
    const beat = () => nc.publish(n.agents.heartbeat('a1'), JSON.stringify({ agentId: 'a1', seq: 1, inFlight: 2, capacity: 2, status: 'ready' }));
    beat();
    const timer = setInterval(beat, 200);
    try {
      const shed = (level: string) => waitForMessage<ShedState>(nc, n.resilience.shedding, { timeoutMs: 5_000, filter: (m) => m.data.capability === 'translate' && m.data.level === level });
      const low = shed('low');
      await low.ready;
      for (let i = 0; i < 4; i++) await js.publish(n.queue.subject('translate', 'normal'), enc.encode('{}'));
      expect((await low).data).toMatchObject({ shedding: ['low'], reason: 'deficit', pending: 4, freeCapacity: 0, agentsUp: 1 });
      const normal = shed('normal');
      await normal.ready;
      for (let i = 0; i < 3; i++) await js.publish(n.queue.subject('translate', 'low'), enc.encode('{}'));
      expect((await normal).data).toMatchObject({ shedding: ['low', 'normal'], pending: 7, pendingByPriority: { high: 0, normal: 4, low: 3 } });
      const kv = await new Kvm(nc).open(n.resilience.bucket);
      expect((await kv.get('shed.translate'))?.json<ShedState>().level).toBe('normal');
      const cleared = shed('none');
      await cleared.ready;
      await jsm.streams.purge(n.queue.stream, { filter: `${prefix}.q.translate.>` });
      expect((await cleared).data).toMatchObject({ shedding: [], reason: null, pending: 0 });
    } finally {
      clearInterval(timer);
    }
  });

  it('counts an agent out of capacity as soon as it is down, while the core reclaims it (both handlers of the event run)', async () => {
    const jsm = await jetstreamManager(nc);
    for (const p of ['high', 'normal', 'low'] as const) {
      await jsm.consumers.add(n.queue.stream, { durable_name: n.queue.consumer('resize', p), filter_subject: n.queue.subject('resize', p), ack_policy: AckPolicy.Explicit });
    }
    const held = { taskId: 't_resize', tenantId: 'tn', capability: 'resize' };
    nc.publish(n.agents.heartbeat('a2'), JSON.stringify({ agentId: 'a2', seq: 1, inFlight: 0, capacity: 10, status: 'ready', tasks: [held] }));
    // Recovery answers a request sent after the heartbeat: it has taken the heartbeat in (10 free slots for resize).
    await request(n.resilience.dlqList, { capability: 'resize' });
    for (let i = 0; i < 4; i++) await jetstream(nc).publish(n.queue.subject('resize', 'normal'), enc.encode('{}'));
    const low = waitForMessage<ShedState>(nc, n.resilience.shedding, { timeoutMs: 5_000, filter: (m) => m.data.capability === 'resize' && m.data.level === 'low' });
    await low.ready;
    const at = new Date().toISOString();
    nc.publish(n.agents.down('a2'), JSON.stringify({ agentId: 'a2', state: 'down', reason: 'missed_heartbeats', at, lastHeartbeatAt: at, host: 'h2', capabilities: ['resize'], labels: {}, tasks: [held] }));
    expect((await low).data).toMatchObject({ shedding: ['low'], pending: 4, freeCapacity: 0, agentsUp: 0 });
    const incident = await eventually(async () => (await app.get(IncidentLog).openFor('agent:a2')) ?? false, { description: 'agent-down incident' });
    expect(incident).toMatchObject({ kind: 'agent_down', labels: { agent: 'a2' } });
    await jsm.streams.purge(n.queue.stream, { filter: `${prefix}.q.resize.>` });
  });

  describe('dead letters', () => {
    const js = () => jetstream(nc);
    async function deadLetter(tenantId: string, capability: string, input: unknown, code = 'AGENT.BAD', redrives?: number): Promise<{ id: string; task: QueuedTask }> {
      const now = new Date();
      const task: QueuedTask = { taskId: newTaskId(), tenantId, capability, priority: 'low', input, metadata: {}, timeoutMs: 60_000, deadlineAt: new Date(now.getTime() + 60_000).toISOString(), createdAt: now.toISOString() };
      if (redrives !== undefined) task.redrives = redrives;
      const errors = [1, 2].map((attempt) => ({ code, message: `attempt ${attempt} failed`, retryable: true, attempt, agentId: 'w1', class: 'agent_error' as const }));
      const record: TaskRecord = { ...task, status: 'dead_lettered', errors, error: errors[1], attempts: 2, finishedAt: now.toISOString() };
      await infra.store.create(record);
      const entry: DeadLetter = { task, errors, deadLetteredAt: now.toISOString() };
      const ack = await js().publish(n.deadLetters.subject(capability), enc.encode(JSON.stringify(entry)));
      return { id: String(ack.seq), task };
    }

    it('lists newest first with fingerprints and counts, inspects every attempt, scoped per tenant', async () => {
      const a = await deadLetter('tn_a', 'parse', { doc: 'x', opts: { a: 1, b: 2 } });
      const b = await deadLetter('tn_a', 'parse', { opts: { b: 2, a: 1 }, doc: 'x' });
      const c = await deadLetter('tn_b', 'parse', { doc: 'other' });
      const all = await request(n.resilience.dlqList, { capability: 'parse' });
      expect(all.body.map((r: any) => r.id)).toEqual([c.id, b.id, a.id]);
      expect(all.body[1]).toMatchObject({ taskId: b.task.taskId, tenantId: 'tn_a', attempts: 2, fingerprintCount: 2, lastError: { code: 'AGENT.BAD', attempt: 2 } });
      expect(all.body[1].fingerprint).toBe(all.body[2].fingerprint);
      expect(all.body[0].fingerprintCount).toBe(1);
      const mine = await request(n.resilience.dlqList, { tenantId: 'tn_b' });
      expect(mine.body.map((r: any) => r.id)).toEqual([c.id]);
      const detail = await request(n.resilience.dlqGet, { id: a.id, tenantId: 'tn_a' });
      expect(detail.body.errors.map((e: any) => e.message)).toEqual(['attempt 1 failed', 'attempt 2 failed']);
      expect(detail.body).toMatchObject({ task: { taskId: a.task.taskId }, fingerprintCount: 2 });
      expect((await request(n.resilience.dlqGet, { id: a.id, tenantId: 'tn_b' })).code).toBe('404');
      expect((await request(n.resilience.dlqGet, { id: 'abc' })).code).toBe('400');
    });

    it('redrives once with an edited input: record reset under CAS, task back on the queue, entry gone', async () => {
      const d = await deadLetter('tn_r', 'render', { page: 1 });
      const queued = waitForMessage<QueuedTask>(nc, n.queue.subject('render', 'high'), { timeoutMs: 5_000 });
      await queued.ready;
      // The check (the gateway's step before it admits the redrive) changes nothing.
      const plan = await request(n.resilience.dlqRedriveCheck, { id: d.id, tenantId: 'tn_r', input: { value: { page: 2 } }, priority: 'high' });
      expect(plan.body).toEqual({ id: d.id, taskId: d.task.taskId, tenantId: 'tn_r', capability: 'render', priority: 'high', metadata: {} });
      expect((await infra.store.get('tn_r', d.task.taskId))!.record.status).toBe('dead_lettered');
      const r = await request(n.resilience.dlqRedrive, { id: d.id, tenantId: 'tn_r', input: { value: { page: 2 } }, priority: 'high', maxConcurrent: 3 });
      expect(r.body).toEqual({ id: d.id, taskId: d.task.taskId, status: 'queued', priority: 'high', inputChanged: true });
      const msg = await queued;
      expect(msg.data).toMatchObject({ taskId: d.task.taskId, input: { page: 2 }, priority: 'high', redrives: 1 });
      expect(Number(msg.headers?.get('Sb-Record-Revision'))).toBeGreaterThan(0);
      // The tenant's running-task ceiling from the gateway's admission: the worker takes a slot for it.
      expect(msg.headers?.get('Sb-Concurrency-Limit')).toBe('3');
      const rec = (await infra.store.get('tn_r', d.task.taskId))!;
      expect(rec.revision).toBe(Number(msg.headers?.get('Sb-Record-Revision')));
      expect(rec.record).toMatchObject({ status: 'queued', input: { page: 2 }, priority: 'high', errors: [], attempts: 0, error: null, redrives: 1 });
      // Twice: the entry is gone, nothing is enqueued again.
      expect((await request(n.resilience.dlqRedrive, { id: d.id, tenantId: 'tn_r' })).code).toBe('404');
      expect((await request(n.resilience.dlqGet, { id: d.id })).code).toBe('404');
    });

    it('refuses a redrive of a task that is not dead-lettered, or too large an input, changing nothing', async () => {
      const d = await deadLetter('tn_c', 'render', { page: 9 });
      expect((await request(n.resilience.dlqRedrive, { id: d.id, input: { value: 'x'.repeat(100) }, maxInputBytes: 10 })).code).toBe('413');
      await infra.store.transition('tn_c', d.task.taskId, (r) => ({ ...r, status: 'queued' }));
      expect((await request(n.resilience.dlqRedrive, { id: d.id })).code).toBe('409');
      expect((await request(n.resilience.dlqGet, { id: d.id })).body.taskId).toBe(d.task.taskId);
    });

    it('refuses a redrive past the per-task cap (DLQ_REDRIVE_MAX, 3 by default) with RECOVERY.REDRIVE_LIMIT, changing nothing', async () => {
      const d = await deadLetter('tn_l', 'render', { page: 3 }, 'AGENT.BAD', 3);
      for (const subject of [n.resilience.dlqRedriveCheck, n.resilience.dlqRedrive]) {
        const r = await request(subject, { id: d.id, tenantId: 'tn_l' });
        expect([r.code, r.body.error]).toEqual(['409', expect.objectContaining({ code: 'RECOVERY.REDRIVE_LIMIT', retryable: false, details: { redrives: 3, limit: 3 } })]);
      }
      expect((await request(n.resilience.dlqGet, { id: d.id })).body).toMatchObject({ taskId: d.task.taskId, redrives: 3 });
      expect((await infra.store.get('tn_l', d.task.taskId))!.record.status).toBe('dead_lettered');
    });

    it('deletes one, purges a tenant’s own, purges a capability', async () => {
      const a = await deadLetter('tn_p', 'zip', { n: 1 });
      await deadLetter('tn_p', 'zip', { n: 2 });
      const c = await deadLetter('tn_q', 'zip', { n: 3 });
      expect((await request(n.resilience.dlqDelete, { id: a.id, tenantId: 'tn_q' })).code).toBe('404');
      expect((await request(n.resilience.dlqDelete, { id: a.id, tenantId: 'tn_p' })).body).toEqual({ id: a.id, deleted: true });
      expect((await request(n.resilience.dlqPurge, { capability: 'zip', tenantId: 'tn_p' })).body).toEqual({ purged: 1 });
      expect((await request(n.resilience.dlqList, { capability: 'zip' })).body.map((r: any) => r.id)).toEqual([c.id]);
      expect((await request(n.resilience.dlqPurge, { capability: 'zip' })).body).toEqual({ purged: 1 });
      expect((await request(n.resilience.dlqList, { capability: 'zip' })).body).toEqual([]);
    });

    it('raises a PoisonTask alert when the same input dead-letters again', async () => {
      const alert = waitForMessage<any>(nc, n.alerts.raise, { timeoutMs: 5_000, filter: (m) => (m.data as any).name === 'PoisonTask' && (m.data as any).labels.capability === 'poison' });
      await alert.ready;
      await deadLetter('tn_x', 'poison', { same: true });
      await deadLetter('tn_y', 'poison', { same: true });
      expect((await alert).data).toMatchObject({ state: 'firing', severity: 'warning', source: 'recovery' });
    });
  });
});
