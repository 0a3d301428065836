/**
 * The 0–100 health score and the plain-language recommendations. Starts from the seed's
 * thresholds (CPU 60/80, memory 70/85, non-active −50, −10 per active alert) and adds the
 * error rate and capacity; every weight and threshold is a named constant (docs/telemetry.md).
 */
import type { AgentPerformance, AgentStatus } from '@sb/contracts';

export const HEALTH = {
  cpu: { high: 60, critical: 80, highPenalty: 15, criticalPenalty: 30 },
  memory: { high: 70, critical: 85, highPenalty: 10, criticalPenalty: 25 },
  status: { downPenalty: 50, drainingPenalty: 10 },
  alerts: { perAlert: 10, maxPenalty: 40 },
  /** Error rate counts only with at least `minFinished` finished attempts in the window. */
  errors: { high: 0.05, critical: 0.25, highPenalty: 15, criticalPenalty: 30, minFinished: 10 },
} as const;

export const RECOMMEND = {
  unhealthyScore: 70,
  cpuAvg: 70,
  memoryAvg: 80,
  errorRate: 0.05,
  /** Average in-flight / capacity above this: the agent runs near its ceiling. */
  saturation: 0.9,
  /** Share of unhealthy agents that points at a fleet-wide cause. */
  fleetUnhealthyShare: 0.3,
  /** Agents with their own lines (least healthy first); the rest are summed up in one line. */
  maxAgentsNamed: 50,
} as const;

export interface ScoreInput {
  status: AgentStatus;
  draining: boolean;
  cpuAvg: number | null;
  memoryAvg: number | null;
  activeAlerts: number;
  finished: number;
  errorRate: number | null;
}

export function healthScore(i: ScoreInput): { score: number; findings: string[] } {
  let score = 100;
  const findings: string[] = [];
  const tier = (v: number | null, t: { high: number; critical: number; highPenalty: number; criticalPenalty: number }, what: string, unit: string) => {
    if (v === null) return;
    const shown = unit === '%' ? `${round1(v)}%` : `${round1(v * 100)}%`;
    if (v > t.critical) {
      score -= t.criticalPenalty;
      findings.push(`critical ${what} (${shown})`);
    } else if (v > t.high) {
      score -= t.highPenalty;
      findings.push(`high ${what} (${shown})`);
    }
  };
  tier(i.cpuAvg, HEALTH.cpu, 'CPU', '%');
  tier(i.memoryAvg, HEALTH.memory, 'memory', '%');
  if (i.status !== 'up') {
    score -= HEALTH.status.downPenalty;
    findings.push(i.status === 'down' ? 'down (missed heartbeats)' : 'left the fleet');
  } else if (i.draining) {
    score -= HEALTH.status.drainingPenalty;
    findings.push('draining');
  }
  if (i.activeAlerts > 0) {
    score -= Math.min(HEALTH.alerts.maxPenalty, i.activeAlerts * HEALTH.alerts.perAlert);
    findings.push(`${i.activeAlerts} active alert${i.activeAlerts === 1 ? '' : 's'}`);
  }
  if (i.finished >= HEALTH.errors.minFinished) tier(i.errorRate, HEALTH.errors, 'error rate', 'ratio');
  return { score: Math.max(0, Math.min(100, score)), findings };
}

export function recommendations(agents: AgentPerformance[], capacity: { total: number; inFlightAvg: number }): string[] {
  const out: string[] = [];
  if (agents.length === 0) return ['No agents reported in this window: start agent workers or check that they reach NATS.'];
  let named = 0;
  let unnamed = 0;
  for (const a of agents) {
    const before = out.length;
    if (named >= RECOMMEND.maxAgentsNamed) {
      if (a.status === 'down' || a.healthScore < RECOMMEND.unhealthyScore) unnamed++;
      continue;
    }
    if (a.status === 'down') out.push(`Agent ${a.agentId} is down: its tasks are reclaimed by recovery; restart or replace it.`);
    if (a.healthScore < RECOMMEND.unhealthyScore) out.push(`Agent ${a.agentId} has a low health score (${a.healthScore}): ${a.findings.join(', ')}.`);
    if ((a.cpuPercent.avg ?? 0) > RECOMMEND.cpuAvg) out.push(`Agent ${a.agentId} averages ${a.cpuPercent.avg}% CPU (max ${a.cpuPercent.max}%): add workers or lower its concurrency.`);
    if ((a.memoryPercent.avg ?? 0) > RECOMMEND.memoryAvg) out.push(`Agent ${a.agentId} averages ${a.memoryPercent.avg}% memory: check for leaks or raise its memory limit.`);
    if (a.errorRate !== null && a.errorRate > RECOMMEND.errorRate) out.push(`Agent ${a.agentId} failed ${round1(a.errorRate * 100)}% of its task attempts: look at its recent errors and the dead-letter queue.`);
    if (out.length > before) named++;
  }
  if (unnamed > 0) out.push(`${unnamed} more agents are down or unhealthy: page through GET /v1/fleet/report?limit= or /v1/agents for them.`);
  const unhealthy = agents.filter((a) => a.healthScore < RECOMMEND.unhealthyScore).length;
  if (agents.length > 1 && unhealthy > agents.length * RECOMMEND.fleetUnhealthyShare) {
    out.push(`${unhealthy} of ${agents.length} agents are unhealthy: look for a fleet-wide cause (NATS, Redis, a recent deploy) before fixing agents one by one.`);
  }
  if (capacity.total > 0 && capacity.inFlightAvg / capacity.total > RECOMMEND.saturation) {
    out.push(`The fleet ran at ${Math.round((capacity.inFlightAvg / capacity.total) * 100)}% of its capacity on average: add agents before queues grow.`);
  }
  return out;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
