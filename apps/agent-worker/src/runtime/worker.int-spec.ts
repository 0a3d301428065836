/**
 * The worker alone against real NATS: it takes a task put straight on the queue, records the
 * result once, stops a running task when an abort is broadcast, and on shutdown finishes the task
 * it is running before it lets go.
 */
import type { INestApplication } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type Heartbeat, names, type QueuedTask, type TaskRecord } from '@sb/contracts';
import { createLogger, createServiceApp } from '@sb/observability';
import { newTaskId, TaskInfrastructure } from '@sb/tasks';
import { cleanupJetStream, testEnv, uniquePrefix, waitForMessage } from '@sb/testing';
import { agentWorkerModule } from '../agent-worker.module';
import { loadWorkerConfig } from '../config';

describe('agent worker', () => {
  const prefix = uniquePrefix();
  const n = names(prefix);
  let nc: NatsConnection;
  let worker: INestApplication;
  let infra: TaskInfrastructure;

  async function enqueue(capability: string, input: unknown): Promise<QueuedTask> {
    const now = new Date();
    const task: QueuedTask = { taskId: newTaskId(), tenantId: 'tn_int', capability, priority: 'normal', input, metadata: {}, timeoutMs: 30_000, deadlineAt: new Date(now.getTime() + 30_000).toISOString(), createdAt: now.toISOString() };
    const record: TaskRecord = { ...task, status: 'queued', errors: [], attempts: 0 };
    await infra.store.create(record);
    const js = (await import('@nats-io/jetstream')).jetstream(nc);
    await js.publish(n.queue.subject(capability, 'normal'), new TextEncoder().encode(JSON.stringify(task)), { msgID: task.taskId });
    nc.publish(n.internal.taskReady(capability, 'normal'));
    return task;
  }

  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
    const config = loadWorkerConfig({ NATS_URL: testEnv().natsUrl, SB_PREFIX: prefix, WORKER_TEST_AGENTS: 'true', WORKER_AGENTS: 'echo,sleep', WORKER_TENANT_SLOTS: 'false', SHUTDOWN_GRACE_MS: '10000', AGENT_HEARTBEAT_MS: '200', LOG_LEVEL: 'silent' });
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

  it('declares its capabilities for gateways', async () => {
    const caps: string[] = [];
    for await (const k of await infra.capabilities.keys()) caps.push(k);
    expect(caps.sort()).toEqual(['echo', 'sleep']);
  });

  it('runs a queued task and stores its result once', async () => {
    const done = waitForMessage(nc, `${prefix}.v1.tasks.events.tn_int.*.succeeded`, { timeoutMs: 10_000 });
    await done.ready;
    const task = await enqueue('echo', { n: 1 });
    const event = await done;
    expect(event.subject).toContain(task.taskId);
    const stored = await infra.store.get('tn_int', task.taskId);
    expect(stored?.record).toMatchObject({ status: 'succeeded', result: { echo: { n: 1 } }, attempts: 1 });
  });

  it('aborts a running task when its abort is broadcast', async () => {
    const running = waitForMessage(nc, `${prefix}.v1.tasks.events.tn_int.*.running`, { timeoutMs: 10_000 });
    await running.ready;
    const task = await enqueue('sleep', { ms: 600_000 });
    await running;
    const holds = (m: { data: Heartbeat }) => m.data.tasks.some((t) => t.taskId === task.taskId);
    // The worker's heartbeats list the tasks it holds: the task, then (aborted and acked) no longer.
    const held = waitForMessage<Heartbeat>(nc, n.agents.heartbeatAll, { filter: holds, timeoutMs: 10_000 });
    await held.ready;
    await held;
    const released = waitForMessage<Heartbeat>(nc, n.agents.heartbeatAll, { filter: (m) => !holds(m), timeoutMs: 10_000 });
    await released.ready;
    nc.publish(n.internal.taskAbort(task.taskId));
    expect((await released).data).toMatchObject({ inFlight: 0, tasks: [] });
  });

  it('finishes the task it is running before shutting down', async () => {
    const running = waitForMessage(nc, `${prefix}.v1.tasks.events.tn_int.*.running`, { timeoutMs: 10_000 });
    await running.ready;
    const task = await enqueue('sleep', { ms: 700 });
    await running;
    await worker.close(); // SIGTERM path: stop pulling, wait for in-flight work
    // The worker's own connection is drained now; read through ours.
    const kv = await new (await import('@nats-io/kv')).Kvm(nc).open(n.buckets.tasks);
    const stored = { record: (await kv.get(`tn_int.${task.taskId}`))!.json<TaskRecord>() };
    expect(stored?.record).toMatchObject({ status: 'succeeded', result: { slept: 700 } });
  });
});
