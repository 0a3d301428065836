import type { AgentLivenessEvent, RaiseAlert } from '@sb/contracts';
import { MemoryActionLog } from '../actions/action-log';
import { IncidentLog } from '../incidents/incident-log';
import { MemoryIncidentStore } from '../incidents/incident-store';
import { RestartHandler } from './restart.handler';
import { RestartPolicy } from './restart-policy';
import { type AgentRef, type RuntimeAdapter, RuntimeRefusedError, type RuntimeTarget } from './runtime-adapter';

describe('RestartPolicy', () => {
  it('backs off exponentially and stops after the budget within the window', () => {
    let t = 0;
    const p = new RestartPolicy({ budget: 3, windowMs: 60_000, backoffMs: 1000, backoffMaxMs: 3000 }, () => t);
    expect(p.next('pool')).toEqual({ action: 'restart', delayMs: 1000, attempt: 1 });
    expect(p.next('pool')).toEqual({ action: 'restart', delayMs: 2000, attempt: 2 });
    expect(p.next('pool')).toEqual({ action: 'restart', delayMs: 3000, attempt: 3 });
    expect(p.next('pool')).toEqual({ action: 'exhausted', restartsInWindow: 3 });
    expect(p.next('other')).toMatchObject({ action: 'restart', attempt: 1 });
    t = 60_001;
    expect(p.next('pool')).toEqual({ action: 'restart', delayMs: 1000, attempt: 1 });
  });
});

describe('RestartHandler', () => {
  const ev = (at: string, labels: Record<string, string> = { pool: 'workers' }, agentId = 'w1'): AgentLivenessEvent => ({
    agentId,
    state: 'down',
    reason: 'missed_heartbeats',
    at,
    lastHeartbeatAt: at,
    host: 'pod-1',
    capabilities: ['echo'],
    labels,
  });

  /** The fake runtime knows agents w1 and w2, both in its pool `verified-pool`; any other agent is refused. */
  function setup(leader = true, failing = false) {
    const restarted: RuntimeTarget[] = [];
    const alerts: RaiseAlert[] = [];
    const delays: number[] = [];
    const adapter: RuntimeAdapter = {
      name: 'fake',
      locate: async (a: AgentRef) => {
        if (a.agentId !== 'w1' && a.agentId !== 'w2') throw new RuntimeRefusedError(`no worker ${a.agentId}`);
        return { agentId: a.agentId, pool: 'verified-pool', name: a.agentId, uid: `uid-${a.agentId}` };
      },
      restart: async (t) => {
        if (failing) throw new Error('api down');
        restarted.push(t);
        return { action: `deleted pod ${t.name}` };
      },
      replace: async () => ({ action: 'x' }),
      scale: async () => ({ action: 'x' }),
    };
    const incidents = new IncidentLog(new MemoryIncidentStore());
    const outcomes: string[] = [];
    const h = new RestartHandler({
      lease: { isLeader: () => leader, epoch: 1 },
      actions: new MemoryActionLog(),
      incidents,
      adapter,
      policy: new RestartPolicy({ budget: 2, windowMs: 600_000, backoffMs: 100, backoffMaxMs: 1000 }),
      raiseAlert: (a) => alerts.push(a),
      delay: async (ms) => void delays.push(ms),
      metrics: { restarted: (o) => void outcomes.push(o) },
    });
    return { h, restarted, alerts, delays, incidents, outcomes };
  }

  it('restarts with backoff, once per down event, then raises an alert when the budget is spent', async () => {
    const { h, restarted, alerts, delays, incidents } = setup();
    expect(await h.onDown(ev('2026-01-01T00:00:00Z'))).toBe('restarted');
    expect(await h.onDown(ev('2026-01-01T00:00:00Z'))).toBe('already_done');
    expect(await h.onDown(ev('2026-01-01T00:01:00Z'))).toBe('restarted');
    expect(await h.onDown(ev('2026-01-01T00:02:00Z'))).toBe('budget_exhausted');
    expect(restarted).toEqual([expect.objectContaining({ name: 'w1', uid: 'uid-w1' }), expect.objectContaining({ name: 'w1' })]);
    expect(delays).toEqual([100, 200]);
    expect(alerts).toEqual([expect.objectContaining({ name: 'RecoveryRestartBudgetExhausted', severity: 'critical', state: 'firing', labels: expect.objectContaining({ agent: 'w1', pool: 'verified-pool' }) })]);
    const inc = (await incidents.openFor('agent:w1'))!;
    expect(inc.timeline.map((e) => e.type)).toEqual(['detected', 'restarted', 'restarted', 'restart_budget_exhausted']);
  });

  it('counts the budget per pool as the runtime found it: a fresh pool name in each registration resets nothing', async () => {
    const { h, restarted } = setup();
    expect(await h.onDown(ev('2026-01-01T00:00:00Z', { pool: 'fresh-1' }))).toBe('restarted');
    expect(await h.onDown(ev('2026-01-01T00:01:00Z', { pool: 'fresh-2' }, 'w2'))).toBe('restarted');
    expect(await h.onDown(ev('2026-01-01T00:02:00Z', { pool: 'fresh-3' }))).toBe('budget_exhausted');
    expect(restarted).toHaveLength(2);
  });

  it('restarts nothing the runtime does not know as its worker, and spends no budget on it', async () => {
    const { h, restarted, incidents, outcomes } = setup();
    expect(await h.onDown(ev('2026-01-01T00:00:00Z', { pod: 'gateway-5c6b-qwert', pool: 'p' }, 'evil'))).toBe('refused');
    expect(await h.onDown(ev('2026-01-01T00:00:01Z', { pod: 'gateway-5c6b-qwert', pool: 'p' }, 'evil'))).toBe('refused');
    expect(restarted).toEqual([]);
    expect(outcomes).toEqual(['refused', 'refused']);
    expect((await incidents.openFor('agent:evil'))!.timeline.at(-1)).toMatchObject({ type: 'restart_refused', message: expect.stringContaining('no worker evil') });
    // The real pool's budget is untouched.
    expect(await h.onDown(ev('2026-01-01T00:01:00Z'))).toBe('restarted');
    expect(await h.onDown(ev('2026-01-01T00:02:00Z'))).toBe('restarted');
  });

  it('does nothing unless leader, and records a failed restart', async () => {
    expect(await setup(false).h.onDown(ev('2026-01-01T00:00:00Z'))).toBe('not_leader');
    const { h, incidents } = setup(true, true);
    expect(await h.onDown(ev('2026-01-01T00:00:00Z'))).toBe('failed');
    expect((await incidents.openFor('agent:w1'))!.timeline.at(-1)).toMatchObject({ type: 'restart_failed', message: expect.stringContaining('api down') });
  });
});
