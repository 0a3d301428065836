import type { AgentLivenessEvent, TaskRecord } from '@sb/contracts';
import { markReclaimed, markRunning, queuedRecord } from '@sb/tasks';
import { MemoryActionLog } from '../actions/action-log';
import { IncidentLog } from '../incidents/incident-log';
import { MemoryIncidentStore } from '../incidents/incident-store';
import { ReclaimHandler } from './reclaim.handler';
import { RunningIndex } from './running-index';

const at = '2026-01-01T00:00:00.000Z';
const task = (taskId: string) => ({ taskId, tenantId: 'tn', capability: 'echo', priority: 'normal' as const, input: 1, metadata: {}, timeoutMs: 60_000, deadlineAt: '2026-01-01T01:00:00Z', createdAt: at });

function setup(opts: { leader?: () => boolean; movedDuringVerify?: string[] } = {}) {
  const records = new Map<string, { record: TaskRecord; revision: number }>();
  for (const id of ['t1', 't2', 't3']) records.set(id, { record: markRunning(queuedRecord(task(id), undefined), 'dead', 1, new Date(at))!, revision: 5 });
  const naks: string[] = [];
  const republished: string[] = [];
  const index = new RunningIndex(() => 0);
  index.onEvent({ taskId: 't3', tenantId: 'tn', capability: 'echo', status: 'running', agentId: 'dead' });
  index.onEvent({ taskId: 't9', tenantId: 'tn', capability: 'echo', status: 'running', agentId: 'alive' });
  const incidents = new IncidentLog(new MemoryIncidentStore());
  const h = new ReclaimHandler(
    {
      lease: { isLeader: opts.leader ?? (() => true), epoch: 3 },
      actions: new MemoryActionLog(),
      incidents,
      index,
      tasks: {
        get: async (_t, id) => records.get(id),
        reclaim: async (r, rev) => {
          const cur = records.get(r.taskId)!;
          const next = markReclaimed(r, r.lease);
          if (cur.revision !== rev || !next) return undefined;
          records.set(r.taskId, { record: next, revision: rev + 1 });
          republished.push(r.taskId);
          return rev + 1;
        },
      },
      nak: (s) => naks.push(s),
      delay: async () => {
        // While recovery waits, healthy workers pick the NAKed tasks up (new lease).
        for (const id of opts.movedDuringVerify ?? []) {
          const cur = records.get(id)!;
          records.set(id, { record: markRunning(cur.record, 'healthy', 2, new Date(at))!, revision: cur.revision + 1 });
        }
      },
      now: () => Date.parse(at) + 1200,
    },
    1000,
  );
  return { h, naks, republished, records, incidents };
}

const ev = (): AgentLivenessEvent => ({
  agentId: 'dead', state: 'down', reason: 'missed_heartbeats', at, lastHeartbeatAt: at, host: 'h', capabilities: ['echo'], labels: {},
  tasks: [
    { taskId: 't1', tenantId: 'tn', capability: 'echo', ackSubject: '$JS.ACK.S.C.1.1.1.1.0' },
    { taskId: 't2', tenantId: 'tn', capability: 'echo', ackSubject: '$JS.ACK.S.C.1.2.2.1.0' },
  ],
});

describe('ReclaimHandler', () => {
  it('NAKs heartbeated tasks, requeues only what still runs under the dead lease, and does it once', async () => {
    const { h, naks, republished, records, incidents } = setup({ movedDuringVerify: ['t1', 't2'] });
    const out = await h.onDown(ev());
    expect(out).toMatchObject({ outcome: 'done', naked: ['t1', 't2'], requeued: ['t3'] });
    expect(naks).toHaveLength(2);
    expect(republished).toEqual(['t3']);
    expect(records.get('t3')!.record).toMatchObject({ status: 'queued' });
    expect(records.get('t1')!.record.lease).toEqual({ agentId: 'healthy', epoch: 2 });
    expect(await h.onDown(ev())).toMatchObject({ outcome: 'already_done' });
    expect(naks).toHaveLength(2);
    const inc = (await incidents.openFor('agent:dead'))!;
    expect(inc.timeline.map((e) => e.type)).toEqual(['detected', 'tasks_reclaimed', 'reclaim_fallback']);
    expect(inc.labels).toMatchObject({ agent: 'dead', capability: 'echo' });
  });

  it('acts only as leader, and leaves the rest to the next leader when it loses the lease mid-way', async () => {
    expect((await setup({ leader: () => false }).h.onDown(ev())).outcome).toBe('not_leader');
    let calls = 0;
    const s = setup({ leader: () => ++calls === 1 });
    expect((await s.h.onDown(ev())).outcome).toBe('lost_leadership');
    expect(s.republished).toEqual([]);
  });

  it('resolves the incident when the agent returns', async () => {
    const { h, incidents } = setup({ movedDuringVerify: ['t1', 't2', 't3'] });
    await h.onDown(ev());
    await h.onUp({ ...ev(), state: 'up', reason: 'heartbeat_resumed', tasks: [] });
    expect(await incidents.openFor('agent:dead')).toBeUndefined();
    const [inc] = await incidents.list({ limit: 10 });
    expect(inc).toMatchObject({ status: 'resolved' });
    // A new failure of the same agent is a new incident.
    const again = await incidents.open('agent_down', 'agent:dead', 'again');
    expect(again.id).not.toBe(inc.id);
  });
});
