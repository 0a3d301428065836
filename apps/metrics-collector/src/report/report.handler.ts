/**
 * The performance report over the last `hours`: per agent averages and maxima (CPU, memory,
 * in-flight), task rate, error rate and p95 from its history, a health score, and
 * recommendations for the fleet.
 */
import type { AgentPerformance, FleetReport } from '@sb/contracts';
import type { Clock } from '@sb/observability';
import type { AlertTracker } from '../overview/alert-tracker';
import type { AgentDirectory } from '../registry/agent-directory';
import type { AgentHistory } from './agent-history';
import { healthScore, RECOMMEND, recommendations } from './health-score';

export class ReportHandler {
  constructor(
    private readonly directory: AgentDirectory,
    private readonly histories: Map<string, AgentHistory>,
    private readonly alerts: AlertTracker,
    private readonly clock: Clock,
  ) {}

  report(hours: number, limit = 200): FleetReport {
    const now = this.clock.now();
    const alertsByAgent = this.alerts.byAgent();
    const agents: AgentPerformance[] = [];
    let capacity = 0;
    let inFlightAvg = 0;
    for (const e of this.directory.entries()) {
      if (e.status === 'left') continue;
      const id = e.reg.agentId;
      const h = this.histories.get(id)?.summary(now, hours);
      const finished = h?.finished ?? 0;
      const errorRate = finished > 0 ? round(h!.failed / finished) : null;
      const activeAlerts = alertsByAgent.get(id) ?? 0;
      const draining = e.lastBeat?.status === 'draining';
      const { score, findings } = healthScore({ status: e.status, draining, cpuAvg: h?.cpu.avg ?? null, memoryAvg: h?.memory.avg ?? null, activeAlerts, finished, errorRate });
      if (e.status === 'up') {
        capacity += e.lastBeat?.capacity ?? e.reg.maxConcurrency;
        inFlightAvg += h?.inFlight.avg ?? 0;
      }
      agents.push({
        agentId: id,
        status: e.status,
        samples: h?.beats ?? 0,
        cpuPercent: h?.cpu ?? { avg: null, max: null },
        memoryPercent: h?.memory ?? { avg: null, max: null },
        inFlight: h?.inFlight ?? { avg: null, max: null },
        tasksPerMinute: round(finished / (hours * 60)),
        errorRate,
        p95Seconds: h?.p95Seconds ?? null,
        activeAlerts,
        healthScore: score,
        findings,
      });
    }
    agents.sort((a, b) => a.healthScore - b.healthScore || a.agentId.localeCompare(b.agentId));
    const avg = (xs: number[]) => (xs.length > 0 ? round(xs.reduce((s, x) => s + x, 0) / xs.length) : null);
    return {
      at: new Date(now).toISOString(),
      hours,
      windowStart: new Date(now - hours * 3_600_000).toISOString(),
      agents: agents.slice(0, limit),
      agentsOmitted: Math.max(0, agents.length - limit),
      fleet: {
        agents: agents.length,
        avgHealthScore: avg(agents.map((a) => a.healthScore)),
        unhealthy: agents.filter((a) => a.healthScore < RECOMMEND.unhealthyScore).length,
        avgCpuPercent: avg(agents.flatMap((a) => (a.cpuPercent.avg === null ? [] : [a.cpuPercent.avg]))),
        avgMemoryPercent: avg(agents.flatMap((a) => (a.memoryPercent.avg === null ? [] : [a.memoryPercent.avg]))),
        tasksPerMinute: round(agents.reduce((s, a) => s + a.tasksPerMinute, 0)),
      },
      recommendations: recommendations(agents, { total: capacity, inFlightAvg }),
    };
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
