/**
 * The metrics-collector's request/reply API (agent list, fleet overview, performance report)
 * and the shapes it answers with. The gateway serves them as `GET /v1/agents`,
 * `GET /v1/fleet/overview` and `GET /v1/fleet/report?hours=`.
 */
import { z } from 'zod';
import type { Endpoint } from './endpoints';
import { AgentRegistrationSchema, type Labels } from './fleet-schemas';
import type { Names } from './subjects';
import { SEVERITIES, type Severity } from './subjects';

const ep = <Req extends z.ZodType, Res>(subject: (n: Names) => string, request: Req): Endpoint<Req, Res> => ({ subject, request });

export const AGENT_STATUSES = ['up', 'down', 'left'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/** `GET /v1/agents?status=up|down|left&limit=1..1000&after=<agentId>`: sorted by id, a page at a time. */
export const ListAgentsRequestSchema = z.object({
  status: z.enum(AGENT_STATUSES).optional(),
  limit: z.coerce.number({ message: 'limit must be a whole number from 1 to 1000' }).int().min(1).max(1000).default(500),
  /** The `next` of the previous page. */
  after: z.string().max(64).optional(),
});
/** `GET /v1/fleet/overview` takes nothing. */
export const FleetOverviewRequestSchema = z.object({});
/** `GET /v1/fleet/report?hours=1..168` (default 1). */
export const FleetReportRequestSchema = z.object({
  hours: z.coerce.number({ message: 'hours must be a whole number from 1 to 168' }).int().min(1).max(168).default(1),
  /** Per-agent rows, least healthy first (the fleet totals always cover every agent). */
  limit: z.coerce.number({ message: 'limit must be a whole number from 1 to 1000' }).int().min(1).max(1000).default(200),
});

/** One page of agents. */
export interface FleetAgentPage {
  agents: FleetAgentView[];
  /** Pass as `after` for the next page; null on the last. */
  next: string | null;
  /** Agents matching the filter, all pages. */
  total: number;
}

export interface FleetAgentView {
  agentId: string;
  status: AgentStatus;
  /** The agent said it is shutting down (it still beats until it has handed its tasks back). */
  draining: boolean;
  host: string;
  version: string;
  capabilities: string[];
  labels: Labels;
  maxConcurrency: number;
  heartbeatIntervalMs: number;
  registeredAt: string | null;
  lastHeartbeatAt: string | null;
  /** Milliseconds since the last heartbeat, on the collector's clock. */
  heartbeatAgeMs: number | null;
  inFlight: number;
  capacity: number;
  cpuPercent: number | null;
  memoryPercent: number | null;
  memoryBytes: number | null;
  /** Up/down transitions in the last 10 minutes. */
  flaps: number;
  activeAlerts: number;
}

export interface FleetOverview {
  at: string;
  agents: {
    total: number;
    byStatus: Record<AgentStatus, number>;
    draining: number;
    /** The agents most in need of a look (down first, then the oldest heartbeat), at most 200; `/v1/agents` pages through all. */
    listTruncated: boolean;
    list: Array<{ agentId: string; status: AgentStatus; draining: boolean; heartbeatAgeMs: number | null; inFlight: number; capacity: number }>;
  };
  capacity: { total: number; inFlight: number; free: number; utilization: number };
  alerts: { active: number; bySeverity: Record<Severity, number> };
  metrics: { agentsReporting: number; series: number; samplesIngested: number; samplesDropped: number };
  /** Capabilities whose derived samples cross a degradation threshold, with why. */
  degradedCapabilities: Array<{ capability: string; reasons: string[] }>;
}

export interface AgentPerformance {
  agentId: string;
  status: AgentStatus;
  /** Heartbeats seen in the window. */
  samples: number;
  cpuPercent: { avg: number | null; max: number | null };
  memoryPercent: { avg: number | null; max: number | null };
  inFlight: { avg: number | null; max: number | null };
  /** Tasks finished per minute over the window. */
  tasksPerMinute: number;
  /** Failed attempts / finished attempts over the window (null: nothing finished). */
  errorRate: number | null;
  /** Highest p95 task duration observed in the window, seconds. */
  p95Seconds: number | null;
  activeAlerts: number;
  healthScore: number;
  /** What lowered the score, in words. */
  findings: string[];
}

export interface FleetReport {
  at: string;
  hours: number;
  windowStart: string;
  /** Least healthy first, at most `limit`. */
  agents: AgentPerformance[];
  agentsOmitted: number;
  fleet: { agents: number; avgHealthScore: number | null; unhealthy: number; avgCpuPercent: number | null; avgMemoryPercent: number | null; tasksPerMinute: number };
  recommendations: string[];
}

/** The collector's answer to `sb.v1.agents.register`. */
export interface RegistrationReply {
  agentId: string;
  registered: true;
  /** The collector declares the agent down after this long without a heartbeat. */
  downAfterMs: number;
  /** The secret the agent's later messages carry in `Sb-Agent-Session` (agent protocol v1); the same one when it presented it. */
  session: string;
  /** The heartbeat period the collector judges the agent by. */
  heartbeatIntervalMs: number;
  /** How long a lease lasts without a keep-alive (the task queue's ack wait): keep leases alive every `leaseMs / 3`. */
  leaseMs: number;
}

export const FleetEndpoints = {
  register: ep<typeof AgentRegistrationSchema, RegistrationReply>((n) => n.agents.register, AgentRegistrationSchema),
  agents: ep<typeof ListAgentsRequestSchema, FleetAgentPage>((n) => n.fleetApi.agents, ListAgentsRequestSchema),
  overview: ep<typeof FleetOverviewRequestSchema, FleetOverview>((n) => n.fleetApi.overview, FleetOverviewRequestSchema),
  report: ep<typeof FleetReportRequestSchema, FleetReport>((n) => n.fleetApi.report, FleetReportRequestSchema),
} as const;

export const emptyBySeverity = (): Record<Severity, number> => Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
