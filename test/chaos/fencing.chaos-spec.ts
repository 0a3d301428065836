/**
 * Fencing, precisely: a worker that lost its task to recovery (it was declared down and its
 * message NAKed) finishes late. Its result must not be stored, and it must not ack: with
 * work-queue retention that ack would delete the redelivered message the new holder is running,
 * so if the new holder then died the task would be stuck. Two real TaskExecutors ("zombie" and
 * "healthy") on the test's NATS; the agent is a latch the test opens.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { Headers, names, type QueuedTask } from '@sb/contracts';
import { Bus, encode, ensureTopology, NatsClient, NoWaitPuller, type PulledMessage } from '@sb/messaging';
import { createLogger, ReadinessRegistry, ServiceMetrics } from '@sb/observability';
import { queuedRecord, TaskAnnouncer, TaskQueue, TaskStore } from '@sb/tasks';
import { cleanupJetStream, eventually, testEnv, uniquePrefix } from '@sb/testing';
import type { Agent, AgentContext } from '../../apps/agent-worker/src/agents/agent';
import { AgentRegistry } from '../../apps/agent-worker/src/agents/agent-registry';
import { AbortRegistry } from '../../apps/agent-worker/src/runtime/abort-registry';
import { TaskExecutor } from '../../apps/agent-worker/src/runtime/task-executor';
import { WorkerMetrics } from '../../apps/agent-worker/src/runtime/worker-metrics';

jest.setTimeout(60_000);

/** An agent whose runs finish only when the test says so. */
class LatchAgent implements Agent {
  readonly name = 'latch';
  readonly capabilities = ['latch'] as const;
  private readonly open = new Map<string, () => void>();
  readonly started: string[] = [];
  async handle(task: QueuedTask, ctx: AgentContext): Promise<unknown> {
    this.started.push(ctx.agentId);
    await new Promise<void>((resolve, reject) => {
      this.open.set(ctx.agentId, resolve);
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
    });
    return { by: ctx.agentId, task: task.taskId };
  }
  finish(agentId: string): void {
    this.open.get(agentId)?.();
  }
}

describe('fencing a worker that lost its task', () => {
  const prefix = uniquePrefix();
  const n = names(prefix);
  const logger = createLogger('fencing-test', 'silent');
  let client: NatsClient;
  let store: TaskStore;

  beforeAll(async () => {
    client = new NatsClient({ url: testEnv().natsUrl, prefix, service: 'fencing-test', requestTimeoutMs: 5_000 }, logger, new ReadinessRegistry());
    await client.connect();
    store = new TaskStore((await ensureTopology(client, 'gateway')).bucket('tasks'));
    await client.jsm.consumers.add(n.queue.stream, {
      durable_name: n.queue.consumer('latch', 'normal'),
      filter_subject: n.queue.subject('latch', 'normal'),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30_000 * 1_000_000,
    });
  });
  afterAll(async () => {
    await cleanupJetStream(client.nc, prefix);
    await client.onApplicationShutdown();
  });

  function executor(workerId: string, agent: LatchAgent, aborts = new AbortRegistry()): TaskExecutor {
    const metrics = new ServiceMetrics(`fencing-${workerId}`);
    const bus = new Bus(client);
    return new TaskExecutor({
      bus,
      store,
      queue: new TaskQueue(client),
      announcer: new TaskAnnouncer(bus),
      agents: new AgentRegistry().register(agent),
      aborts,
      retry: { maxAttempts: 3, baseMs: 100, maxMs: 1000 },
      ackWaitMs: 30_000,
      workerId,
      logger,
      metrics: new WorkerMetrics(metrics),
    });
  }

  it('drops the zombie\'s late result and leaves the new holder\'s message alone', async () => {
    const agent = new LatchAgent();
    const now = new Date();
    const task: QueuedTask = { taskId: 'task_fence1', tenantId: 'tn1', capability: 'latch', priority: 'normal', input: {}, metadata: {}, timeoutMs: 60_000, deadlineAt: new Date(now.getTime() + 60_000).toISOString(), createdAt: now.toISOString() };
    const rev = await store.create(queuedRecord(task, undefined));
    const h = natsHeaders();
    h.set(Headers.RecordRevision, String(rev));
    await jetstream(client.nc).publish(n.queue.subject('latch', 'normal'), encode(task), { headers: h, msgID: task.taskId });
    const puller = new NoWaitPuller(client.nc);
    const pull = async (): Promise<PulledMessage> => eventually(async () => (await puller.pull(n.queue.stream, n.queue.consumer('latch', 'normal'), 1))[0] ?? false, { timeoutMs: 5_000 });

    // The zombie starts the task, then "dies" (is paused); recovery NAKs its message.
    const first = await pull();
    const zombieRun = executor('zombie', agent).run(first);
    await eventually(() => agent.started.includes('zombie'));
    client.nc.publish(first.msg.reply!, '-NAK');

    // The healthy worker gets the redelivery and starts it under a new lease.
    const second = await pull();
    expect(second.info.deliveryCount).toBe(2);
    const healthyRun = executor('healthy', agent).run(second);
    await eventually(() => agent.started.includes('healthy'));
    expect((await store.get('tn1', task.taskId))?.record.lease).toEqual({ agentId: 'healthy', epoch: 2 });

    // The zombie wakes up and finishes first: its result is refused and it does not ack.
    agent.finish('zombie');
    await zombieRun;
    expect((await store.get('tn1', task.taskId))?.record).toMatchObject({ status: 'running', agentId: 'healthy' });
    const jsm = await jetstreamManager(client.nc);
    const pending = await jsm.consumers.info(n.queue.stream, n.queue.consumer('latch', 'normal'));
    expect(pending.num_ack_pending).toBe(1); // the healthy worker's delivery is still there
    const msgs = await jsm.streams.info(n.queue.stream);
    expect(msgs.state.messages).toBe(1);

    // The healthy worker finishes: its result is stored once and the message goes away.
    agent.finish('healthy');
    await healthyRun;
    expect((await store.get('tn1', task.taskId))?.record).toMatchObject({ status: 'succeeded', agentId: 'healthy', result: { by: 'healthy' } });
    await eventually(async () => (await jsm.streams.info(n.queue.stream)).state.messages === 0);
    puller.close();
  });
});
