import type { AgentLivenessEvent, TaskRecord } from '@sb/contracts';
import { markReclaimed, markRunning, queuedRecord } from '@sb/tasks';
import { MemoryActionLog } from '../actions/action-log';
import { IncidentLog } from '../incidents/incident-log';
import { MemoryIncidentStore } from '../incidents/incident-store';
import { ReclaimHandler } from './reclaim.handler';
import { RunningIndex } from './running-index';

const at = '2026-01-01T00:00:00.000Z';
const task = (taskId: string) => ({ taskId, tenantId: 'tn', capability: 'echo', priority: 'normal' as const, input: 1, metadata: {}, timeoutMs: 60_000, deadlineAt: '2026-01-01T01:00:00Z', createdAt: at });

interface Opts {
  leader?: () => boolean;
  /** What happens to the records while recovery waits: the agent (and epoch) each one runs under next. */
  duringVerify?: Record<string, { agentId: string; epoch: number }>;
  /** Reads of these records fail. */
  unreadable?: string[];
  /** Task events heard while recovery waits. */
  eventsDuringVerify?: Array<{ taskId: string; agentId: string }>;
}

function setup(opts: Opts = {}) {
  const records = new Map<string, { record: TaskRecord; revision: number }>();
  const running = (id: string, agentId: string) => records.set(id, { record: markRunning(queuedRecord(task(id), undefined), agentId, 1, new Date(at))!, revision: 5 });
  for (const id of ['t1', 't2', 't3', 'x']) running(id, 'dead');
  running('t4', 'other');
  running('t9', 'alive');
  const republished: string[] = [];
  const reclaimedMetric: Array<[number, string]> = [];
  const latencies: number[] = [];
  const index = new RunningIndex(() => 0);
  for (const id of ['t1', 't2', 't3']) index.onEvent({ taskId: id, tenantId: 'tn', capability: 'echo', status: 'running', agentId: 'dead' });
  // An event naming the dead agent that its record does not bear out (stale, or not the control plane's).
  index.onEvent({ taskId: 't4', tenantId: 'tn', capability: 'echo', status: 'running', agentId: 'dead' });
  index.onEvent({ taskId: 't9', tenantId: 'tn', capability: 'echo', status: 'running', agentId: 'alive' });
  // 'x' runs under the dead agent's lease by its record, but no task event named it: recovery never hears of it here.
  const unreadable = new Set(opts.unreadable);
  const logged: string[] = [];
  const incidents = new IncidentLog(new MemoryIncidentStore());
  const h = new ReclaimHandler(
    {
      lease: { isLeader: opts.leader ?? (() => true), epoch: 3 },
      actions: new MemoryActionLog(),
      incidents,
      index,
      tasks: {
        get: async (_t, id) => {
          if (unreadable.has(id)) throw new Error('kv timeout');
          return records.get(id);
        },
        reclaim: async (r, rev) => {
          const cur = records.get(r.taskId)!;
          const next = markReclaimed(r, r.lease);
          if (cur.revision !== rev || !next) return undefined;
          records.set(r.taskId, { record: next, revision: rev + 1 });
          republished.push(r.taskId);
          return rev + 1;
        },
      },
      delay: async () => {
        // While recovery waits, the dispatcher has handed the leases back and agents take them (a new lease each).
        for (const [id, next] of Object.entries(opts.duringVerify ?? {})) {
          const cur = records.get(id)!;
          records.set(id, { record: { ...markRunning(cur.record, next.agentId, 2, new Date(at))!, lease: next }, revision: cur.revision + 1 });
        }
        for (const e of opts.eventsDuringVerify ?? []) index.onEvent({ taskId: e.taskId, tenantId: 'tn', capability: 'echo', status: 'running', agentId: e.agentId });
      },
      now: () => Date.parse(at) + 1200,
      metrics: { reclaimed: (n, how) => reclaimedMetric.push([n, how]), requeueLatency: (s) => latencies.push(s) },
      log: (msg, detail) => logged.push(`${String(detail.taskId)}: ${msg}`),
    },
    1000,
  );
  return { h, republished, records, incidents, reclaimedMetric, latencies, logged };
}

const ev = (): AgentLivenessEvent => ({ agentId: 'dead', state: 'down', reason: 'missed_heartbeats', at, lastHeartbeatAt: at, host: 'h', capabilities: ['echo'], labels: {} });

describe('ReclaimHandler', () => {
  it('finds the dead agent\'s tasks from the task events, requeues those whose records still run under its lease after the delay, once', async () => {
    const s = setup({ duringVerify: { t1: { agentId: 'healthy', epoch: 2 }, t2: { agentId: 'healthy', epoch: 2 } } });
    const out = await s.h.onDown(ev());
    expect(out).toMatchObject({ outcome: 'done', requeued: ['t3'] });
    expect([...out.found].sort()).toEqual(['t1', 't2', 't3', 't4']);
    expect(s.republished).toEqual(['t3']);
    expect(s.records.get('t3')!.record).toMatchObject({ status: 'queued' });
    expect(s.records.get('t1')!.record.lease).toEqual({ agentId: 'healthy', epoch: 2 });
    // Another agent's task, and one whose record names another agent, are not touched.
    expect(s.records.get('t4')!.record).toMatchObject({ status: 'running', lease: { agentId: 'other' } });
    expect(s.records.get('t9')!.record).toMatchObject({ status: 'running', lease: { agentId: 'alive' } });
    expect(s.reclaimedMetric).toEqual([[1, 'requeue']]);
    expect(s.latencies).toEqual([1.2]);

    expect(await s.h.onDown(ev())).toMatchObject({ outcome: 'already_done' });
    expect(s.republished).toEqual(['t3']);
    const inc = (await s.incidents.openFor('agent:dead'))!;
    expect(inc.timeline.map((e) => e.type)).toEqual(['detected', 'tasks_reclaimed', 'reclaim_fallback']);
    expect(inc.timeline[1].detail).toMatchObject({ count: 4 });
    expect(inc.timeline[2]).toMatchObject({ detail: { count: 1, taskIds: ['t3'] }, message: expect.stringContaining('requeued from their records') });
    expect(inc.labels).toMatchObject({ agent: 'dead', capability: 'echo' });
  });

  it('requeues nothing when the dispatcher\'s hand-back already moved every task on', async () => {
    const moved = { agentId: 'healthy', epoch: 2 };
    const s = setup({ duringVerify: { t1: moved, t2: moved, t3: moved } });
    const out = await s.h.onDown(ev());
    expect(out).toMatchObject({ outcome: 'done', requeued: [] });
    expect(s.republished).toEqual([]);
    expect(s.reclaimedMetric).toEqual([]);
    const inc = (await s.incidents.openFor('agent:dead'))!;
    expect(inc.timeline.map((e) => e.type)).toEqual(['detected', 'tasks_reclaimed']);
  });

  it('believes nothing the event says about tasks: a down event that still lists held tasks and ack subjects changes nothing', async () => {
    const s = setup();
    const legacy = { ...ev(), tasks: [{ taskId: 'x', tenantId: 'tn', capability: 'echo', ackSubject: '$JS.ACK.S.C.1.1.1.1.0' }] } as AgentLivenessEvent;
    const out = await s.h.onDown(legacy);
    expect(out.found).not.toContain('x');
    expect([...out.requeued].sort()).toEqual(['t1', 't2', 't3']);
    expect(s.records.get('x')!.record).toMatchObject({ status: 'running', lease: { agentId: 'dead', epoch: 1 } });
  });

  it('also requeues a task leased to the dead agent after its down event (a take of its that raced the hand-back)', async () => {
    // 'x' was leased to the dead agent again while recovery waited, and its event says so; t3 at a new epoch.
    const s = setup({ duringVerify: { x: { agentId: 'dead', epoch: 2 }, t3: { agentId: 'dead', epoch: 2 } }, eventsDuringVerify: [{ taskId: 'x', agentId: 'dead' }] });
    const out = await s.h.onDown(ev());
    expect(out.found).not.toContain('x');
    expect([...out.requeued].sort()).toEqual(['t1', 't2', 't3', 'x']);
    expect(s.records.get('x')!.record).toMatchObject({ status: 'queued' });
  });

  it('leaves a task whose record cannot be read to its redelivery, and requeues the rest', async () => {
    const s = setup({ unreadable: ['t2'] });
    const out = await s.h.onDown(ev());
    expect([...out.requeued].sort()).toEqual(['t1', 't3']);
    expect(s.logged).toEqual(['t2: requeue failed; the task is redelivered after ack_wait']);
  });

  it('acts only as leader, and leaves the rest to the next leader when it loses the lease mid-way', async () => {
    expect((await setup({ leader: () => false }).h.onDown(ev())).outcome).toBe('not_leader');
    let calls = 0;
    const s = setup({ leader: () => ++calls === 1 });
    expect((await s.h.onDown(ev())).outcome).toBe('lost_leadership');
    expect(s.republished).toEqual([]);
  });

  it('resolves the incident when the agent returns', async () => {
    const { h, incidents } = setup();
    await h.onDown(ev());
    await h.onUp({ ...ev(), state: 'up', reason: 'heartbeat_resumed' });
    expect(await incidents.openFor('agent:dead')).toBeUndefined();
    const [inc] = await incidents.list({ limit: 10 });
    expect(inc).toMatchObject({ status: 'resolved' });
    // A new failure of the same agent is a new incident.
    const again = await incidents.open('agent_down', 'agent:dead', 'again');
    expect(again.id).not.toBe(inc.id);
  });
});
