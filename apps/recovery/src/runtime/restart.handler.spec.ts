import type { AgentLivenessEvent, RaiseAlert } from '@sb/contracts';
import { MemoryActionLog } from '../actions/action-log';
import { IncidentLog } from '../incidents/incident-log';
import { MemoryIncidentStore } from '../incidents/incident-store';
import { RestartHandler } from './restart.handler';
import { RestartPolicy } from './restart-policy';
import type { AgentRef, RuntimeAdapter } from './runtime-adapter';

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
  const ev = (at: string): AgentLivenessEvent => ({ agentId: 'w1', state: 'down', reason: 'missed_heartbeats', at, lastHeartbeatAt: at, host: 'pod-1', capabilities: ['echo'], labels: { pool: 'workers' } });

  function setup(leader = true, failing = false) {
    const restarted: AgentRef[] = [];
    const alerts: RaiseAlert[] = [];
    const delays: number[] = [];
    const adapter: RuntimeAdapter = {
      name: 'fake',
      restart: async (a) => {
        if (failing) throw new Error('api down');
        restarted.push(a);
        return { action: `deleted pod ${a.host}` };
      },
      replace: async () => ({ action: 'x' }),
      scale: async () => ({ action: 'x' }),
    };
    const incidents = new IncidentLog(new MemoryIncidentStore());
    const h = new RestartHandler({
      lease: { isLeader: () => leader, epoch: 1 },
      actions: new MemoryActionLog(),
      incidents,
      adapter,
      policy: new RestartPolicy({ budget: 2, windowMs: 600_000, backoffMs: 100, backoffMaxMs: 1000 }),
      raiseAlert: (a) => alerts.push(a),
      delay: async (ms) => void delays.push(ms),
    });
    return { h, restarted, alerts, delays, incidents };
  }

  it('restarts with backoff, once per down event, then raises an alert when the budget is spent', async () => {
    const { h, restarted, alerts, delays, incidents } = setup();
    expect(await h.onDown(ev('2026-01-01T00:00:00Z'))).toBe('restarted');
    expect(await h.onDown(ev('2026-01-01T00:00:00Z'))).toBe('already_done');
    expect(await h.onDown(ev('2026-01-01T00:01:00Z'))).toBe('restarted');
    expect(await h.onDown(ev('2026-01-01T00:02:00Z'))).toBe('budget_exhausted');
    expect(restarted).toHaveLength(2);
    expect(delays).toEqual([100, 200]);
    expect(alerts).toEqual([expect.objectContaining({ name: 'RecoveryRestartBudgetExhausted', severity: 'critical', state: 'firing', labels: expect.objectContaining({ agent: 'w1', pool: 'workers' }) })]);
    const inc = (await incidents.openFor('agent:w1'))!;
    expect(inc.timeline.map((e) => e.type)).toEqual(['detected', 'restarted', 'restarted', 'restart_budget_exhausted']);
  });

  it('does nothing unless leader, and records a failed restart', async () => {
    expect(await setup(false).h.onDown(ev('2026-01-01T00:00:00Z'))).toBe('not_leader');
    const { h, incidents } = setup(true, true);
    expect(await h.onDown(ev('2026-01-01T00:00:00Z'))).toBe('failed');
    expect((await incidents.openFor('agent:w1'))!.timeline.at(-1)).toMatchObject({ type: 'restart_failed', message: expect.stringContaining('api down') });
  });
});
