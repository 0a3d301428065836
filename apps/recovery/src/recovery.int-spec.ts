/**
 * The recovery service against real NATS: on a synthetic down event, the tasks the task events
 * and records say still run under the dead agent's lease are requeued from their records after
 * the verify delay; nothing is NAKed (not even an ack subject an old-style event lists), another
 * agent's task is left alone, the incident records it, a repeated event is not acted on twice,
 * alerts are linked, and an expired task is finalised by the sweeper.
 */
import { AckPolicy, DeliverPolicy, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { INestApplication } from '@nestjs/common';
import { type AgentLivenessEvent, type AlertEvent, Headers, type Incident, type IncidentList, names, type TaskRecord } from '@sb/contracts';
import { encode, NoWaitPuller, type PulledMessage } from '@sb/messaging';
import { createLogger, createServiceApp } from '@sb/observability';
import { markRunning, queuedRecord, TaskStore } from '@sb/tasks';
import { cleanupJetStream, eventually, testEnv, uniquePrefix, waitForMessage } from '@sb/testing';
import { loadRecoveryConfig } from './config';
import { recoveryModule } from './recovery.module';

const NANOS = 1_000_000;

jest.setTimeout(30_000);

describe('recovery core (int)', () => {
  const prefix = uniquePrefix();
  const n = names(prefix);
  let nc: NatsConnection;
  let app: INestApplication;
  let store: TaskStore;
  let puller: NoWaitPuller;

  beforeAll(async () => {
    const { natsUrl } = testEnv();
    nc = await connect({ servers: natsUrl });
    const cfg = loadRecoveryConfig({ NATS_URL: natsUrl, SB_PREFIX: prefix, RECOVERY_LEASE_MS: '600', RECOVERY_RECLAIM_VERIFY_MS: '300', RECOVERY_SWEEP_INTERVAL_MS: '200', LOG_LEVEL: 'warn' });
    const logger = createLogger('recovery', 'warn');
    ({ app } = await createServiceApp({ service: 'recovery', config: { ...cfg, HTTP_PORT: 0, HTTP_HOST: '127.0.0.1' }, module: () => recoveryModule(cfg, logger) }));
    await app.listen(0, '127.0.0.1');
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(n.queue.stream, {
      durable_name: n.queue.consumer('echo', 'normal'),
      filter_subject: n.queue.subject('echo', 'normal'),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30_000 * NANOS,
    });
    store = new TaskStore(await new Kvm(jetstream(nc)).open(n.buckets.tasks));
    puller = new NoWaitPuller(nc);
    // The service is the only replica: it becomes leader.
    await eventually(async () => (await fetch(`${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/metrics`).then((r) => r.text())).includes('sb_recovery_leader{service="recovery"} 1'), { timeoutMs: 15_000 });
  });
  afterAll(async () => {
    puller?.close();
    await app?.close();
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  async function enqueueRunning(taskId: string, agentId: string, deadlineInMs = 60_000): Promise<{ record: TaskRecord; revision: number; msg?: PulledMessage }> {
    const now = new Date();
    const task = { taskId, tenantId: 'tn1', capability: 'echo', priority: 'normal' as const, input: { taskId }, metadata: {}, timeoutMs: deadlineInMs, deadlineAt: new Date(now.getTime() + deadlineInMs).toISOString(), createdAt: now.toISOString() };
    const rev = await store.create(queuedRecord(task, undefined));
    await jetstream(nc).publish(n.queue.subject('echo', 'normal'), encode(task), { msgID: taskId });
    const [msg] = await puller.pull(n.queue.stream, n.queue.consumer('echo', 'normal'), 1);
    const running = markRunning(queuedRecord(task, undefined), agentId, 1, now)!;
    const revision = (await store.replace(running, rev))!;
    nc.publish(n.tasks.event('tn1', taskId, 'running'), encode({ taskId, tenantId: 'tn1', status: 'running', capability: 'echo', agentId, attempts: 1, at: now.toISOString() }));
    return { record: running, revision, msg };
  }

  const down = (agentId: string, at = new Date().toISOString()): AgentLivenessEvent => ({
    agentId, state: 'down', reason: 'missed_heartbeats', at, lastHeartbeatAt: at, host: 'h1', capabilities: ['echo'], labels: {},
  });

  async function incidentsOf(agentId: string): Promise<Incident[]> {
    const r = await nc.request(n.recoveryCore.incidentsList, encode({ limit: 50 }), { timeout: 2000 });
    return (r.json<IncidentList>().incidents ?? []).filter((i) => i.key === `agent:${agentId}`);
  }

  const metricsText = async () => fetch(`${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/metrics`).then((r) => r.text());
  const taskOf = (m: PulledMessage) => (JSON.parse(new TextDecoder().decode(m.data)) as { taskId: string }).taskId;

  it("requeues, after the verify delay, the tasks whose records still run under the dead agent's lease, NAKs nothing, and records the incident once", async () => {
    const a = await enqueueRunning('task_a', 'dead-1');
    const b = await enqueueRunning('task_b', 'dead-1');
    const c = await enqueueRunning('task_c', 'alive-1'); // another agent's task
    // Its event said dead-1, but its record has moved on (handed back and taken by another agent).
    const m = await enqueueRunning('task_m', 'dead-1');
    await store.replace(markRunning(m.record, 'healthy-1', 2, new Date())!, m.revision);
    expect(a.msg?.info.deliveryCount).toBe(1);
    // A second consumer pull sees nothing: every message is held.
    expect(await puller.pull(n.queue.stream, n.queue.consumer('echo', 'normal'), 5)).toHaveLength(0);

    // A down event as an older collector sent it, still listing "held tasks" with ack subjects: here another
    // agent's message, which must not be handed back on anyone's word.
    const ev = { ...down('dead-1'), tasks: [{ taskId: 'task_c', tenantId: 'tn1', capability: 'echo', ackSubject: c.msg!.msg.reply }] };
    const downAt = Date.now();
    nc.publish(n.agents.down('dead-1'), encode(ev));

    // task_a and task_b come back as reclaim copies, not before the verify delay (300 ms).
    const got = new Map<string, PulledMessage>();
    await eventually(async () => {
      for (const msg of await puller.pull(n.queue.stream, n.queue.consumer('echo', 'normal'), 5)) {
        got.set(`${taskOf(msg)}:${msg.headers?.get(Headers.Reclaimed) ? 'copy' : msg.info.deliveryCount}`, msg);
      }
      return got.has('task_a:copy') && got.has('task_b:copy');
    }, { timeoutMs: 5000, description: 'reclaim copies of task_a and task_b' });
    expect(Date.now() - downAt).toBeGreaterThanOrEqual(300);
    for (const id of ['task_a', 'task_b']) {
      const rec = await store.get('tn1', id);
      expect(rec?.record.status).toBe('queued');
      expect(Number(got.get(`${id}:copy`)!.headers?.get(Headers.Reclaimed))).toBe(rec?.revision);
    }

    const [inc] = await eventually(async () => {
      const list = await incidentsOf('dead-1');
      return list.length === 1 && list[0].timeline.some((e) => e.type === 'reclaim_fallback') ? list : false;
    });
    expect(inc.status).toBe('open');
    const found = inc.timeline.find((e) => e.type === 'tasks_reclaimed')?.detail as { count: number; taskIds: string[] };
    expect(found.count).toBe(3); // what the task events said; task_m's record then showed another agent's lease
    expect([...found.taskIds].sort()).toEqual(['task_a', 'task_b', 'task_m']);
    const fallback = inc.timeline.find((e) => e.type === 'reclaim_fallback')?.detail as { count: number; taskIds: string[] };
    expect(fallback.count).toBe(2);
    expect([...fallback.taskIds].sort()).toEqual(['task_a', 'task_b']);
    const metrics = await eventually(async () => {
      const text = await metricsText();
      return text.includes('sb_recovery_reclaimed_tasks_total{how="requeue",service="recovery"} 2') && text;
    });
    expect(metrics).not.toContain('how="nak"');
    expect(metrics).toMatch(/^sb_recovery_reclaim_seconds_count\{[^}]*phase="requeue"[^}]*\} 1$/m);

    // Nothing was NAKed (task_c's message, listed in the event, stays held), and the other records are untouched.
    for (const msg of await puller.pull(n.queue.stream, n.queue.consumer('echo', 'normal'), 5)) got.set(`${taskOf(msg)}:${msg.info.deliveryCount}`, msg);
    expect([...got.keys()].sort()).toEqual(['task_a:copy', 'task_b:copy']);
    expect((await store.get('tn1', 'task_c'))?.record).toMatchObject({ status: 'running', lease: { agentId: 'alive-1', epoch: 1 } });
    expect((await store.get('tn1', 'task_m'))?.record).toMatchObject({ status: 'running', lease: { agentId: 'healthy-1', epoch: 2 } });

    // The same down event again (a replayed or duplicated publish): nothing is redone.
    const changed = waitForMessage(nc, n.recoveryCore.incidentChangedAll, { timeoutMs: 1500 });
    await changed.ready;
    nc.publish(n.agents.down('dead-1'), encode(ev));
    await expect(changed).rejects.toThrow();
    expect((await incidentsOf('dead-1'))[0].timeline).toHaveLength(inc.timeline.length);

    // An alert about that agent is linked; the agent coming back resolves the incident.
    const alert: Partial<AlertEvent> = { fingerprint: 'fp-123', name: 'AgentDown', severity: 'critical', state: 'firing', labels: { agent: 'dead-1' } };
    nc.publish(n.alerts.event('critical', 'firing'), encode(alert));
    await eventually(async () => (await incidentsOf('dead-1'))[0].alerts.includes('fp-123'));
    nc.publish(n.agents.up('dead-1'), encode({ ...down('dead-1'), state: 'up', reason: 'heartbeat_resumed' }));
    const resolved = await eventually(async () => {
      const [i] = await incidentsOf('dead-1');
      return i.status === 'resolved' ? i : false;
    });
    expect(resolved.timeline.map((e) => e.type)).toEqual(['detected', 'tasks_reclaimed', 'reclaim_fallback', 'alert_linked', 'resolved']);
    const byId = await nc.request(n.recoveryCore.incidentsGet, encode({ id: resolved.id }));
    expect(byId.json<Incident>().id).toBe(resolved.id);
    const missing = await nc.request(n.recoveryCore.incidentsGet, encode({ id: 'inc_nope' }));
    expect(missing.headers?.get(Headers.ErrorCode)).toBe('404');
    const bad = await nc.request(n.recoveryCore.incidentsList, encode({ limit: 'x', evil: 1 }));
    expect(bad.headers?.get(Headers.ErrorCode)).toBe('400');
    for (const msg of [...got.values(), a.msg, b.msg, c.msg, m.msg]) msg?.ack();
  });

  it('finalises a task left running past its deadline as timed_out and announces it', async () => {
    const ended = waitForMessage(nc, n.tasks.event('tn1', 'task_late', 'timed_out'), { timeoutMs: 8000 });
    await ended.ready;
    const { msg } = await enqueueRunning('task_late', 'busy-agent', 300);
    const { data } = await ended;
    expect(data).toMatchObject({ taskId: 'task_late', status: 'timed_out' });
    expect((await store.get('tn1', 'task_late'))?.record).toMatchObject({ status: 'timed_out', error: { code: 'TASK.TIMED_OUT' } });
    msg?.ack();
  });
});
