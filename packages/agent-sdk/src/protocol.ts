/**
 * Agent protocol v1 as this SDK speaks it: the subjects, headers and JSON bodies of
 * docs/agent-protocol.md, written out here on purpose. The SDK depends on the public wire
 * protocol only (never on the control plane's code), so every shape it needs is in this file.
 * Fields are only ever added to the protocol; the SDK ignores fields it does not know.
 */

/** The header every message of a registered agent carries: the session `register` answered with. */
export const AGENT_SESSION_HEADER = 'Sb-Agent-Session';
/** Structured errors: the status code (HTTP-like, as a string) and the message, on every error reply. */
export const ERROR_CODE_HEADER = 'Nats-Service-Error-Code';
export const ERROR_MESSAGE_HEADER = 'Nats-Service-Error';

export const DEFAULT_PREFIX = 'sb';
/** The largest `take` batch and long-poll. */
export const MAX_TAKE = 256;
export const MAX_TAKE_WAIT_MS = 30_000;
/** The largest progress body the dispatcher accepts. */
export const MAX_PROGRESS_BYTES = 64 * 1024;
export const MAX_ERROR_MESSAGE = 4096;
export const MAX_RETRY_AFTER_MS = 24 * 3600_000;

/** `fail.error.code`. */
export const ERROR_CODE_PATTERN = /^[A-Z0-9_.]{1,64}$/;
/** Agent ids are subject tokens. */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Words agent ids may not be: they share subject positions with the protocol's verbs and events. */
export const RESERVED_AGENT_IDS: ReadonlySet<string> = new Set([
  'up', 'down', 'left', 'heartbeat', 'metrics', 'register', 'deregister', 'fleet',
  'take', 'keepalive', 'progress', 'complete', 'fail', 'abort',
]);
/** A capability is a subject token. */
export const CAPABILITY_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Codes of the refusals the control plane answers agents with. */
export const RefusalCodes = {
  session: 'AGENT.SESSION',
  notLeased: 'AGENT.NOT_LEASED',
  leaseLost: 'AGENT.LEASE_LOST',
  idInUse: 'AGENT.ID_IN_USE',
  notCapable: 'AGENT.NOT_CAPABLE',
  invalid: 'REQUEST.INVALID',
} as const;

export type Priority = 'high' | 'normal' | 'low';

/** A task's lease: who may change it, at which epoch (goes up with every new lease of the task). */
export interface Lease {
  taskId: string;
  tenantId: string;
  epoch: number;
}

/** A task handed to an agent under a lease. */
export interface LeasedTask {
  taskId: string;
  tenantId: string;
  capability: string;
  priority: Priority;
  input: unknown;
  metadata: Record<string, unknown>;
  /** The caller's Idempotency-Key, or the task id: key side effects on it. */
  idempotencyKey: string;
  /** 1 on the first attempt. */
  deliveryCount: number;
  deadlineAt: string;
  /** Continues the task's trace (W3C). */
  traceparent?: string;
  lease: Lease;
  /** Without a keep-alive, the lease ends then. */
  leaseExpiresAt: string;
  /** The dispatcher that granted the lease: the verbs on it go to `<prefix>.v1.agents.<agentId>.<verb>.<dispatcher>`. */
  dispatcher: string;
}

/** `take` (also the `take` of complete/fail): up to `max` tasks, waiting at most `waitMs` for the first. */
export interface TakeRequest {
  capabilities?: string[];
  max: number;
  waitMs: number;
}
export interface TakeReply {
  tasks: LeasedTask[];
}

export interface KeepAliveRequest {
  leases: Lease[];
}
/** Why an agent no longer holds a task. */
export type LeaseEndReason = 'cancelled' | 'timed_out' | 'reclaimed' | 'done';
export interface KeepAliveReply {
  leases: Array<{ taskId: string; held: boolean; reason?: LeaseEndReason }>;
}

export interface ProgressRequest {
  lease: Lease;
  progress: unknown;
}

/** The error classes an agent may report. */
export const AGENT_ERROR_CLASSES = ['agent_error', 'rate_limited', 'timeout', 'dependency'] as const;
export type AgentErrorClass = (typeof AGENT_ERROR_CLASSES)[number];

/** `fail.error`. */
export interface AgentFailure {
  code: string;
  message: string;
  class: AgentErrorClass;
  retryable: boolean;
  /** For `rate_limited`: the next attempt waits at least this long. */
  retryAfterMs?: number;
}

export interface CompleteRequest {
  lease: Lease;
  result: unknown;
  take?: TakeRequest;
}
export interface FailRequest {
  lease: Lease;
  error: AgentFailure;
  take?: TakeRequest;
}
export interface OutcomeReply {
  status: 'succeeded' | 'failed' | 'retrying' | 'dead_lettered';
  tasks?: LeasedTask[];
}

/** `<prefix>.v1.agents.<agentId>.abort`: stop working on this task now. */
export interface AbortNotice {
  taskId: string;
  tenantId: string;
  epoch: number;
  reason: LeaseEndReason;
}

/** `<prefix>.v1.agents.register`. */
export interface AgentRegistration {
  agentId: string;
  capabilities: string[];
  version: string;
  maxConcurrency: number;
  host: string;
  labels: Record<string, string>;
  /** How often this agent promises to beat; the collector's down threshold scales with it. */
  heartbeatIntervalMs: number;
  startedAt: string;
}

/**
 * What `register` answers: `{agentId, registered, downAfterMs, session, heartbeatIntervalMs,
 * leaseMs}`. Every field but `agentId` is optional here (an older collector leaves some out);
 * the SDK uses what it gets: `leaseMs` sets its keep-alive period (a third of it).
 */
export interface RegisterReply {
  agentId: string;
  session?: string;
  heartbeatIntervalMs?: number;
  leaseMs?: number;
  registered?: boolean;
  downAfterMs?: number;
}

/** `<prefix>.v1.agents.heartbeat.<agentId>`. */
export interface Heartbeat {
  agentId: string;
  /** Monotonic per agent process. */
  seq: number;
  sentAt: number;
  status: 'ready' | 'draining';
  inFlight: number;
  capacity: number;
  cpuPercent?: number;
  memoryBytes?: number;
}

/** How a task attempt ended, as the agent saw it (the `outcome` label of `sb_agent_tasks_total`). */
export type TaskOutcome = 'succeeded' | 'failed' | 'retried' | 'dead_lettered' | 'timed_out' | 'cancelled' | 'superseded';

/** One metric in a batch: counters are cumulative totals, histograms cumulative per upper bound. */
export type MetricSample =
  | { type: 'counter' | 'gauge'; name: string; help?: string; labels: Record<string, string>; value: number }
  | { type: 'histogram'; name: string; help?: string; labels: Record<string, string>; buckets: Array<{ le: number; count: number }>; sum: number; count: number };

/** `<prefix>.v1.agents.metrics.<agentId>` (publish, with the session). */
export interface MetricBatch {
  agentId: string;
  sentAt: number;
  samples: MetricSample[];
}

/** `<prefix>.v1.agents.deregister` (publish). */
export interface Deregistration {
  agentId: string;
  reason: string;
}

/** The body of every structured error reply. */
export interface ServiceErrorBody {
  error: { code: string; message: string; retryable: boolean; retryAfter?: number };
}

/** The verbs on a lease, sent to the dispatcher that granted it. */
export type LeaseVerb = 'keepalive' | 'progress' | 'complete' | 'fail';

/** Every subject one agent uses. */
export function agentSubjects(prefix: string, agentId: string) {
  const a = `${prefix}.v1.agents`;
  return {
    register: `${a}.register`,
    deregister: `${a}.deregister`,
    heartbeat: `${a}.heartbeat.${agentId}`,
    metrics: `${a}.metrics.${agentId}`,
    take: `${a}.${agentId}.take`,
    onLease: (verb: LeaseVerb, dispatcher: string) => `${a}.${agentId}.${verb}.${dispatcher}`,
    abort: `${a}.${agentId}.abort`,
    reregister: `${prefix}.internal.fleet.reregister.${agentId}`,
    liveness: (state: 'up' | 'down' | 'left') => `${a}.${agentId}.${state}`,
  };
}
export type AgentSubjects = ReturnType<typeof agentSubjects>;

/** Why an id cannot be an agent id, or undefined when it can. */
export function agentIdProblem(id: string): string | undefined {
  if (!AGENT_ID_PATTERN.test(id)) return `agentId must be 1-64 characters of A-Z a-z 0-9 _ - (got ${JSON.stringify(id)})`;
  if (RESERVED_AGENT_IDS.has(id)) return `agentId ${JSON.stringify(id)} is a reserved word`;
  return undefined;
}
