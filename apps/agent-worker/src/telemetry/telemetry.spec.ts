import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { HeartbeatSchema } from '@sb/contracts';
import { PulledMessage } from '@sb/messaging';
import { ServiceMetrics } from '@sb/observability';
import { WorkerMetrics } from '../runtime/worker-metrics';
import { HeartbeatComposer, registerBackoffBeats } from './heartbeat-composer';
import { HeldTasks } from './held-tasks';
import { gaugeSamples, taskSamples } from './metric-batch';

const ACK = '$JS.ACK.SB_TASKS.SB_echo_high.3.17.9.1700000000000000000.0';
const published: string[] = [];
const nc = { publish: (s: string) => published.push(s) } as unknown as NatsConnection;
function pulled(body: unknown, subject = 'sb.q.echo.high'): PulledMessage {
  const data = new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
  return new PulledMessage(nc, { subject, reply: ACK, data, headers: undefined } as unknown as Msg);
}

describe('held tasks', () => {
  it('lists a task while it runs, with its delivery count and ack subject, and forgets it when settled', async () => {
    const held = new HeldTasks();
    let release!: () => void;
    const running = held.track(pulled({ taskId: 'tk1', tenantId: 'tn1', capability: 'echo' }), () => new Promise<void>((r) => (release = r)), new Date('2026-01-01T00:00:00Z'));
    expect(held.list()).toEqual([{ taskId: 'tk1', tenantId: 'tn1', capability: 'echo', priority: 'high', attempt: 3, ackSubject: ACK, startedAt: '2026-01-01T00:00:00.000Z' }]);
    const empty = held.whenEmpty(10_000);
    release();
    await running;
    expect(await empty).toBe(true);
    expect(held.list()).toEqual([]);
  });

  it('leaves out unreadable and already settled messages, and still releases on failure', async () => {
    const held = new HeldTasks();
    const settled = pulled({ taskId: 'tk2', tenantId: 'tn1' });
    settled.ack();
    let fail!: (e: Error) => void;
    const a = held.track(pulled('not json'), () => new Promise<void>((_r, j) => (fail = j)));
    const b = held.track(settled, () => new Promise<void>(() => undefined));
    expect(held.size).toBe(2);
    expect(held.list()).toEqual([]);
    fail(new Error('boom'));
    await expect(a).rejects.toThrow('boom');
    expect(held.size).toBe(1);
    expect(await held.whenEmpty(1)).toBe(false);
    void b;
  });
});

describe('heartbeat composer', () => {
  const id = { agentId: 'w1', capabilities: ['echo'], version: '0.1.0', maxConcurrency: 4, host: 'h', labels: { zone: 'a' }, heartbeatIntervalMs: 1_000, startedAt: '2026-01-01T00:00:00Z' };
  it('numbers beats, carries load and tasks, and says draining (no capacity) once asked to', () => {
    const c = new HeartbeatComposer(id);
    const sample = { cpuPercent: 12.5, memoryBytes: 1e8, memoryPercent: 5 };
    const task = { taskId: 't', tenantId: 'tn', capability: 'echo' };
    const b0 = c.beat([task], sample, 1);
    expect(HeartbeatSchema.parse(b0)).toEqual({ agentId: 'w1', seq: 0, sentAt: 1, status: 'ready', inFlight: 1, capacity: 4, cpuPercent: 12.5, memoryBytes: 1e8, memoryPercent: 5, tasks: [task] });
    c.drain();
    expect(c.beat([], sample, 2)).toMatchObject({ seq: 1, status: 'draining', capacity: 0, inFlight: 0 });
    expect(c.registration()).toMatchObject({ agentId: 'w1', labels: { zone: 'a' }, heartbeatIntervalMs: 1_000 });
  });
  it('backs off registration attempts up to 30 beats', () => {
    expect([1, 2, 3, 5, 9].map(registerBackoffBeats)).toEqual([2, 4, 8, 30, 30]);
  });
});

describe('metric batch', () => {
  it('reads the worker metrics as fleet counters and one duration histogram per capability', async () => {
    const m = new ServiceMetrics('agent-worker');
    const wm = new WorkerMetrics(m);
    wm.startTask('echo')('succeeded');
    wm.startTask('echo')('succeeded');
    wm.startTask('echo')('failed');
    const samples = await taskSamples(m.registry);
    expect(samples.filter((s) => s.type === 'counter')).toEqual([
      expect.objectContaining({ name: 'sb_agent_tasks_total', labels: { capability: 'echo', outcome: 'succeeded' }, value: 2 }),
      expect.objectContaining({ name: 'sb_agent_tasks_total', labels: { capability: 'echo', outcome: 'failed' }, value: 1 }),
    ]);
    const h = samples.find((s) => s.type === 'histogram');
    expect(h).toMatchObject({ name: 'sb_agent_task_duration_seconds', labels: { capability: 'echo' }, count: 3 });
    expect((h as { buckets: Array<{ count: number }> }).buckets.at(-1)!.count).toBe(3);
    expect(gaugeSamples({ cpuPercent: 1, memoryPercent: 2, inFlight: 3, capacity: 4 }).map((s) => [s.name, (s as { value: number }).value])).toEqual([
      ['sb_agent_cpu_percent', 1],
      ['sb_agent_memory_percent', 2],
      ['sb_agent_in_flight', 3],
      ['sb_agent_capacity', 4],
    ]);
  });
});
