/**
 * What agents publish and what the fleet publishes about them: registration, heartbeats,
 * metric batches, liveness events, alert events, and alerts raised by other services.
 * These are public (an agent written in any language can join the fleet with a plain NATS
 * client), so fields are only ever added, never renamed. One exception: the heartbeat's and the
 * down event's `tasks` (held tasks with JetStream ack subjects, as an agent claimed them) were
 * removed, since an untrusted agent's claim must not steer recovery; a `tasks` an old agent
 * still sends is ignored.
 */
import { z } from 'zod';
import { CapabilitySchema } from './schemas';
import { AGENT_VERBS, ALERT_STATES, SEVERITIES } from './subjects';

/** Words agent ids may not be: they share subject positions with `sb.v1.agents.<verb>.<id>`, `<id>.<state>` and `<id>.<work verb>`. */
export const RESERVED_AGENT_IDS: ReadonlySet<string> = new Set(['up', 'down', 'left', 'heartbeat', 'metrics', 'register', 'deregister', 'fleet', ...AGENT_VERBS]);
/** Agent ids are subject tokens: keep to a safe alphabet. */
export const AgentIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'agentId must be 1-64 characters of A-Z a-z 0-9 _ -')
  .refine((id) => !RESERVED_AGENT_IDS.has(id), 'agentId is a reserved word');
/** Label names (Prometheus's rule; names starting with `__` are reserved, `__proto__` among them). */
export const LABEL_NAME_PATTERN = /^(?!__)[a-zA-Z_][a-zA-Z0-9_]{0,62}$/;
const labelName = z.string().regex(LABEL_NAME_PATTERN, 'label names must match ^[a-zA-Z_][a-zA-Z0-9_]*$ and not start with __ (reserved)');
/** zod drops a `__proto__` key silently; it is refused here instead, like every reserved name. */
const noProtoKey = z.custom<Record<string, unknown>>((v) => typeof v !== 'object' || v === null || !Object.hasOwn(v, '__proto__'), 'label names starting with __ are reserved');
export const LabelsSchema = noProtoKey.pipe(z.record(labelName, z.string().max(256)).refine((l) => Object.keys(l).length <= 32, 'at most 32 labels'));
export type Labels = z.infer<typeof LabelsSchema>;

// ---- registration and liveness ------------------------------------------------------------

/** `sb.v1.agents.register` (request/reply; also re-sent by an agent the collector does not know). */
export const AgentRegistrationSchema = z.object({
  agentId: AgentIdSchema,
  capabilities: z.array(CapabilitySchema).max(256),
  version: z.string().max(64).default('unknown'),
  maxConcurrency: z.number().int().min(1).max(100_000),
  host: z.string().max(253).default('unknown'),
  labels: LabelsSchema.default({}),
  /** How often this agent promises to beat; the collector's down threshold scales with it. */
  heartbeatIntervalMs: z.number().int().min(100).max(60_000).default(1_000),
  startedAt: z.string().optional(),
});
export type AgentRegistration = z.infer<typeof AgentRegistrationSchema>;

/**
 * `sb.v1.agents.heartbeat.<agentId>`: sent from a timer, also while tasks run. It carries no task
 * list: agents are untrusted, and the control plane knows what each one holds from its own leases.
 * A `tasks` field an older agent still sends is stripped like any unknown key, not refused.
 */
export const HeartbeatSchema = z.object({
  agentId: AgentIdSchema,
  /** Monotonic per agent process; lets the collector ignore reordered beats. */
  seq: z.number().int().min(0),
  /** Sender's clock, ms since epoch (informational; liveness uses the collector's clock). */
  sentAt: z.number().int().optional(),
  status: z.enum(['ready', 'draining']).default('ready'),
  inFlight: z.number().int().min(0),
  capacity: z.number().int().min(0),
  /** CPU used by the agent process, percent of one core (can exceed 100 on several cores). */
  cpuPercent: z.number().min(0).max(100_000).optional(),
  memoryBytes: z.number().min(0).optional(),
  /** Resident memory as a percent of the limit the agent runs under (cgroup or host). */
  memoryPercent: z.number().min(0).max(100).optional(),
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

/** `sb.v1.agents.deregister` (publish): graceful leave; no down alarm. */
export const DeregistrationSchema = z.object({ agentId: AgentIdSchema, reason: z.string().max(256).default('shutdown') });
export type Deregistration = z.infer<typeof DeregistrationSchema>;

export const LIVENESS_STATES = ['up', 'down', 'left'] as const;
/**
 * `sb.v1.agents.<agentId>.up|down|left`, published by the collector. It names no tasks: on
 * `down`/`left` the dispatcher hands the agent's leases back, and recovery requeues from the
 * record any task still running under the dead agent's lease (found from the task events).
 */
export interface AgentLivenessEvent {
  agentId: string;
  state: (typeof LIVENESS_STATES)[number];
  /** up: registered | heartbeat_resumed; down: missed_heartbeats; left: deregistered. */
  reason: string;
  at: string;
  lastHeartbeatAt: string | null;
  host: string;
  capabilities: string[];
  labels: Labels;
}

// ---- metric samples -------------------------------------------------------------------------

const metricName = z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,127}$/, 'metric names must match ^[a-zA-Z_:][a-zA-Z0-9_:]*$');
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
export const MetricSampleSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('counter'), name: metricName, help: z.string().max(256).optional(), labels: LabelsSchema.default({}), value: finite.min(0) }),
  z.object({ type: z.literal('gauge'), name: metricName, help: z.string().max(256).optional(), labels: LabelsSchema.default({}), value: finite }),
  z.object({
    type: z.literal('histogram'),
    name: metricName,
    help: z.string().max(256).optional(),
    labels: LabelsSchema.default({}),
    /** Cumulative counts per upper bound, ascending; `+Inf` is `count`. */
    buckets: z.array(z.object({ le: finite, count: finite.min(0) })).max(64),
    sum: finite,
    count: finite.min(0),
  }),
]);
export type MetricSample = z.infer<typeof MetricSampleSchema>;

/** `sb.v1.agents.metrics.<agentId>`: counters are cumulative totals (Prometheus semantics). */
export const MetricBatchSchema = z.object({
  agentId: AgentIdSchema,
  sentAt: z.number().int().optional(),
  samples: z.array(MetricSampleSchema).max(10_000),
});
export type MetricBatch = z.infer<typeof MetricBatchSchema>;

/**
 * Metric names shared by producers (workers, the collector) and consumers (alert rules,
 * dashboards). `sb_fleet_*` are derived by the collector and published on `fleet.samples`
 * in the MetricBatch shape with agentId `fleet`.
 */
export const FleetMetrics = {
  /** counter {capability, outcome: succeeded|failed|retried|superseded|dead_lettered|timed_out|cancelled} */
  agentTasks: 'sb_agent_tasks_total',
  /** histogram {capability} */
  agentTaskDuration: 'sb_agent_task_duration_seconds',
  agentCpuPercent: 'sb_agent_cpu_percent',
  agentMemoryPercent: 'sb_agent_memory_percent',
  agentInFlight: 'sb_agent_in_flight',
  agentCapacity: 'sb_agent_capacity',
  /** gauge {capability}: failed / finished over the collector's window (0..1). */
  fleetErrorRatio: 'sb_fleet_task_error_ratio',
  /** gauge {capability}: p95 task duration over the collector's window. */
  fleetTaskP95: 'sb_fleet_task_duration_p95_seconds',
  /** gauge {capability, priority}: tasks waiting in the work queue. */
  fleetQueuePending: 'sb_fleet_queue_pending',
  /** gauge {capability}: messages in the dead-letter stream. */
  fleetDeadLetters: 'sb_fleet_dead_letters',
  /** gauge {status: up|down}. */
  fleetAgents: 'sb_fleet_agents',
  /** gauge {agent}: up/down transitions in the last 10 minutes. */
  fleetAgentFlaps: 'sb_fleet_agent_flaps',
} as const;
export const FLEET_AGENT_ID = 'fleet';
/**
 * `sb_fleet_*` names belong to the collector's derived samples: the collector refuses them from
 * agents, and alerting ignores them anywhere but on `fleet.samples` (an agent must not be able
 * to page people with a fake fleet-wide error ratio).
 */
export const RESERVED_FLEET_METRIC_PREFIX = 'sb_fleet_';
export const isReservedFleetMetric = (name: string): boolean => name.startsWith(RESERVED_FLEET_METRIC_PREFIX);

// ---- alerts ---------------------------------------------------------------------------------

/** `sb.v1.alerts.<severity>.<state>`: every alert state change, also kept in the alerts stream. */
export interface AlertEvent {
  /** Stable per alert instance: the fingerprint of name + labels. */
  fingerprint: string;
  name: string;
  severity: (typeof SEVERITIES)[number];
  state: (typeof ALERT_STATES)[number];
  labels: Labels;
  annotations: Record<string, string>;
  /** Rule id, or `external:<service>` for alerts raised by other services. */
  source: string;
  value: number | null;
  startsAt: string;
  endsAt: string | null;
  at: string;
  acknowledgedBy?: string | null;
  ackExpiresAt?: string | null;
  escalation?: { policyId: string; level: number } | null;
}

/** `sb.internal.alerts.raise` (publish): another service reports a condition (breaker open, restart budget spent). */
export const RaiseAlertSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/),
  severity: z.enum(SEVERITIES),
  state: z.enum(['firing', 'resolved']),
  labels: LabelsSchema.default({}),
  annotations: z.record(z.string().max(64), z.string().max(4096)).default({}),
  source: z.string().max(64),
  at: z.string().optional(),
});
export type RaiseAlert = z.infer<typeof RaiseAlertSchema>;
