import type { AgentPerformance } from '@sb/contracts';
import { AgentHistory } from './agent-history';
import { HEALTH, healthScore, recommendations } from './health-score';

const base = { status: 'up' as const, draining: false, cpuAvg: 10, memoryAvg: 10, activeAlerts: 0, finished: 0, errorRate: null };

describe('health score', () => {
  it('is 100 for a quiet, healthy agent and applies each tier once', () => {
    expect(healthScore(base)).toEqual({ score: 100, findings: [] });
    expect(healthScore({ ...base, cpuAvg: 65 }).score).toBe(100 - HEALTH.cpu.highPenalty);
    expect(healthScore({ ...base, cpuAvg: 95 }).score).toBe(100 - HEALTH.cpu.criticalPenalty);
    expect(healthScore({ ...base, memoryAvg: 75 }).score).toBe(100 - HEALTH.memory.highPenalty);
    expect(healthScore({ ...base, memoryAvg: 90 }).score).toBe(100 - HEALTH.memory.criticalPenalty);
  });

  it('penalises down agents, draining, alerts (capped) and error rates only with enough finished tasks', () => {
    expect(healthScore({ ...base, status: 'down' })).toEqual({ score: 50, findings: ['down (missed heartbeats)'] });
    expect(healthScore({ ...base, draining: true }).score).toBe(90);
    expect(healthScore({ ...base, activeAlerts: 9 }).score).toBe(100 - HEALTH.alerts.maxPenalty);
    expect(healthScore({ ...base, finished: 5, errorRate: 1 }).score).toBe(100);
    expect(healthScore({ ...base, finished: 50, errorRate: 0.1 }).score).toBe(85);
    expect(healthScore({ ...base, finished: 50, errorRate: 0.5 })).toEqual({ score: 70, findings: ['critical error rate (50%)'] });
  });

  it('never leaves 0..100', () => {
    expect(healthScore({ status: 'down', draining: false, cpuAvg: 100, memoryAvg: 100, activeAlerts: 10, finished: 100, errorRate: 1 }).score).toBe(0);
  });
});

describe('recommendations', () => {
  const perf = (agentId: string, healthScore: number, extra: Partial<AgentPerformance> = {}): AgentPerformance => ({
    agentId, status: 'up', samples: 10, cpuPercent: { avg: 10, max: 10 }, memoryPercent: { avg: 10, max: 10 }, inFlight: { avg: 1, max: 1 },
    tasksPerMinute: 1, errorRate: 0, p95Seconds: 0.1, activeAlerts: 0, healthScore, findings: [], ...extra,
  });

  it('says nothing about healthy agents and names what to do about unhealthy ones', () => {
    expect(recommendations([perf('a', 100), perf('b', 100)], { total: 10, inFlightAvg: 2 })).toEqual([]);
    const r = recommendations([perf('a', 40, { status: 'down', findings: ['down (missed heartbeats)'], errorRate: 0.2 }), perf('b', 100)], { total: 10, inFlightAvg: 9.5 });
    expect(r).toEqual([
      'Agent a is down: its tasks are reclaimed by recovery; restart or replace it.',
      'Agent a has a low health score (40): down (missed heartbeats).',
      'Agent a failed 20% of its task attempts: look at its recent errors and the dead-letter queue.',
      '1 of 2 agents are unhealthy: look for a fleet-wide cause (NATS, Redis, a recent deploy) before fixing agents one by one.',
      'The fleet ran at 95% of its capacity on average: add agents before queues grow.',
    ]);
  });
});

describe('agent history', () => {
  it('folds beats into minute and hour slots and forgets slots older than the window', () => {
    const h = new AgentHistory();
    const t0 = 10 * 3600_000;
    h.beat(t0, { cpuPercent: 10, inFlight: 1 });
    h.beat(t0 + 30_000, { cpuPercent: 30, memoryPercent: 50, inFlight: 3 });
    h.tasks(t0 + 30_000, 10, 2, 0.5);
    expect(h.summary(t0 + 60_000, 1)).toEqual({ beats: 2, cpu: { avg: 20, max: 30 }, memory: { avg: 50, max: 50 }, inFlight: { avg: 2, max: 3 }, finished: 10, failed: 2, p95Seconds: 0.5 });
    expect(h.summary(t0 + 2 * 3600_000, 1).beats).toBe(0);
    expect(h.summary(t0 + 2 * 3600_000, 3).beats).toBe(2);
    expect(h.summary(t0 + 200 * 3600_000, 168).beats).toBe(0);
  });
});
