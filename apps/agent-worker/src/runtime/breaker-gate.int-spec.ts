/**
 * A worker against real NATS and the resilience bucket: it reports attempt outcomes (with
 * their class), stops taking a capability while its breaker for it is open, takes a probe
 * when it goes half-open, and records the failure class on the task.
 */
import type { INestApplication } from '@nestjs/common';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type BreakerState, names, type OutcomeBatch, type QueuedTask, type TaskRecord } from '@sb/contracts';
import { createLogger, createServiceApp } from '@sb/observability';
import { newTaskId, TaskInfrastructure } from '@sb/tasks';
import { cleanupJetStream, collectMessages, eventually, testEnv, uniquePrefix, waitForMessage } from '@sb/testing';
import { agentWorkerModule } from '../agent-worker.module';
import { loadWorkerConfig } from '../config';

jest.setTimeout(30_000);

describe('worker breaker gate and outcome reports', () => {
  const prefix = uniquePrefix();
  const n = names(prefix);
  const workerId = 'gate-w1';
  let nc: NatsConnection;
  let worker: INestApplication;
  let infra: TaskInfrastructure;

  async function enqueue(capability: string, input: unknown): Promise<QueuedTask> {
    const now = new Date();
    const task: QueuedTask = { taskId: newTaskId(), tenantId: 'tn_gate', capability, priority: 'normal', input, metadata: {}, timeoutMs: 30_000, deadlineAt: new Date(now.getTime() + 30_000).toISOString(), createdAt: now.toISOString() };
    await infra.store.create({ ...task, status: 'queued', errors: [], attempts: 0 });
    await jetstream(nc).publish(n.queue.subject(capability, 'normal'), new TextEncoder().encode(JSON.stringify(task)), { msgID: task.taskId });
    nc.publish(n.internal.taskReady(capability, 'normal'));
    return task;
  }
  const finished = (taskId: string, status: string) => waitForMessage(nc, `${prefix}.v1.tasks.events.tn_gate.${taskId}.${status}`, { timeoutMs: 10_000 });
  const state = (s: BreakerState['state']): BreakerState => ({
    scope: 'agent', key: `${workerId}.flaky`, capability: 'flaky', agentId: workerId, state: s, since: new Date().toISOString(), retryAt: null, reason: 'consecutive_failures', failures: 3, attempts: 3, consecutive: 3, probes: 1, epoch: 1,
  });

  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
    const config = loadWorkerConfig({
      NATS_URL: testEnv().natsUrl, SB_PREFIX: prefix, WORKER_ID: workerId, WORKER_TEST_AGENTS: 'true', WORKER_AGENTS: 'echo,flaky', WORKER_TENANT_SLOTS: 'false',
      WORKER_IDLE_POLL_MS: '50', WORKER_OUTCOME_FLUSH_MS: '50', LOG_LEVEL: 'silent',
    });
    const { app } = await createServiceApp({ service: 'agent-worker', config, module: (l) => agentWorkerModule(config, l), logger: createLogger('agent-worker', 'silent') });
    await app.init();
    worker = app;
    infra = app.get(TaskInfrastructure);
  });
  afterAll(async () => {
    await worker?.close().catch(() => undefined);
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  it('reports outcomes by class and stores the class on the task error', async () => {
    const outcomes = collectMessages<OutcomeBatch>(nc, n.resilience.outcomes(workerId));
    await outcomes.ready;
    const t = await enqueue('flaky', { fail: 'permanent' });
    const failed = finished(t.taskId, 'failed');
    await failed.ready;
    const ok = await enqueue('flaky', { failTimes: 0 });
    const done = finished(ok.taskId, 'succeeded');
    await Promise.all([failed, done]);
    const rec = (await infra.store.get('tn_gate', t.taskId))!.record;
    expect(rec.error).toMatchObject({ code: 'AGENT.FLAKY_PERMANENT', class: 'agent_error' });
    // The two outcomes may land in one batch or in two (a batch goes out every flush period).
    const sums = () => {
      const tallies = outcomes.messages.flatMap((b) => b.data.tallies).filter((x) => x.capability === 'flaky');
      return { ok: tallies.reduce((a, x) => a + x.ok, 0), agentError: tallies.reduce((a, x) => a + (x.failed.agent_error ?? 0), 0) };
    };
    await eventually(() => expect(sums()).toEqual({ ok: 1, agentError: 1 }), { timeoutMs: 5_000 });
    expect(outcomes.messages[0].data).toMatchObject({ agentId: workerId, capabilities: ['echo', 'flaky'] });
    await outcomes.stop();
  });

  it('takes no task of a capability whose breaker is open, keeps serving others, probes on half-open', async () => {
    const kv = await new Kvm(nc).create(n.resilience.bucket);
    await kv.put(`breaker.agent.${workerId}.flaky`, JSON.stringify(state('open')));
    // The bucket change reaches the worker's watch before any task published after it (one server, in order).
    const blocked = await enqueue('flaky', { failTimes: 0 });
    const canary = await enqueue('echo', { hi: 1 });
    await finished(canary.taskId, 'succeeded');
    const other = await enqueue('echo', { hi: 2 });
    await finished(other.taskId, 'succeeded');
    expect((await infra.store.get('tn_gate', blocked.taskId))!.record.status).toBe('queued');

    const probe = finished(blocked.taskId, 'succeeded');
    await probe.ready;
    const halfOpenAt = Date.now();
    await kv.put(`breaker.agent.${workerId}.flaky`, JSON.stringify(state('half_open')));
    await probe;
    const rec: TaskRecord = (await infra.store.get('tn_gate', blocked.taskId))!.record;
    expect(Date.parse(rec.startedAt!)).toBeGreaterThanOrEqual(halfOpenAt - 5);
    await kv.put(`breaker.agent.${workerId}.flaky`, JSON.stringify(state('closed')));
  });
});
