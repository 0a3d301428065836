/**
 * The agent list and the fleet overview: agents by status with heartbeat age, capacity and
 * in-flight totals, active alerts by severity, metric series counts, degraded capabilities.
 */
import type { AgentStatus, FleetAgentPage, FleetAgentView, FleetOverview } from '@sb/contracts';
import type { Clock } from '@sb/observability';
import type { SeriesStore } from '../ingestion/series-store';
import type { AgentDirectory } from '../registry/agent-directory';
import type { AlertTracker } from './alert-tracker';

export interface IngestCounts {
  samplesIngested: number;
  samplesDropped: number;
}

/** Agents listed in the overview (a reply must fit a NATS message). */
export const OVERVIEW_LIST_LIMIT = 200;
const STATUS_ORDER: Record<AgentStatus, number> = { down: 0, up: 1, left: 2 };
const needsLook = (a: FleetAgentView, b: FleetAgentView) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || (b.heartbeatAgeMs ?? 0) - (a.heartbeatAgeMs ?? 0) || a.agentId.localeCompare(b.agentId);

export type DegradedSource = () => Array<{ capability: string; reasons: string[] }>;

export class OverviewHandler {
  constructor(
    private readonly directory: AgentDirectory,
    private readonly alerts: AlertTracker,
    private readonly series: SeriesStore,
    private readonly counts: IngestCounts,
    private readonly degraded: DegradedSource,
    private readonly clock: Clock,
  ) {}

  /** A page of agents sorted by id. */
  page(q: { status?: AgentStatus; limit: number; after?: string }): FleetAgentPage {
    const all = this.agents(q.status);
    const start = q.after === undefined ? 0 : all.findIndex((a) => a.agentId > q.after!);
    const from = start < 0 ? all.length : start;
    const agents = all.slice(from, from + q.limit);
    const more = from + q.limit < all.length;
    return { agents, next: more ? agents[agents.length - 1].agentId : null, total: all.length };
  }

  agents(status?: AgentStatus): FleetAgentView[] {
    const now = this.clock.now();
    const byAgent = this.alerts.byAgent();
    const out: FleetAgentView[] = [];
    for (const e of this.directory.entries()) {
      if (status && e.status !== status) continue;
      out.push(this.directory.view(e.reg.agentId, now, byAgent.get(e.reg.agentId) ?? 0)!);
    }
    return out.sort((a, b) => a.agentId.localeCompare(b.agentId));
  }

  overview(): FleetOverview {
    const views = this.agents();
    const byStatus: Record<AgentStatus, number> = { up: 0, down: 0, left: 0 };
    let total = 0;
    let inFlight = 0;
    for (const v of views) {
      byStatus[v.status]++;
      total += v.capacity;
      inFlight += v.inFlight;
    }
    return {
      at: new Date(this.clock.now()).toISOString(),
      agents: {
        total: views.length,
        byStatus,
        draining: views.filter((v) => v.draining).length,
        listTruncated: views.length > OVERVIEW_LIST_LIMIT,
        list: [...views].sort(needsLook).slice(0, OVERVIEW_LIST_LIMIT).map((v) => ({ agentId: v.agentId, status: v.status, draining: v.draining, heartbeatAgeMs: v.heartbeatAgeMs, inFlight: v.inFlight, capacity: v.capacity })),
      },
      capacity: { total, inFlight, free: Math.max(0, total - inFlight), utilization: total > 0 ? Math.round((inFlight / total) * 1000) / 1000 : 0 },
      alerts: { active: this.alerts.count, bySeverity: this.alerts.bySeverity() },
      metrics: { agentsReporting: this.series.agentCount, series: this.series.seriesCount, samplesIngested: this.counts.samplesIngested, samplesDropped: this.counts.samplesDropped },
      degradedCapabilities: this.degraded(),
    };
  }
}
