/**
 * Circuit breakers, load shedding and dead letters on the wire: the attempt outcomes workers
 * report, the breaker and shedding states the recovery leader broadcasts (subject + KV entry,
 * so a restarted gateway or worker learns the current state), and the dead-letter endpoints.
 */
import { z } from 'zod';
import { ERROR_CLASSES, type ErrorClass } from './resilience-classes';
import { CapabilitySchema, TaskIdSchema, TenantIdSchema, type QueuedTask, type TaskError } from './schemas';
import { PRIORITIES, type Priority } from './subjects';

// ---- attempt outcomes (worker → recovery) ---------------------------------------------------

const count = z.number().int().min(0).max(1_000_000);
/** One capability's attempts on one agent since the previous batch. */
export const OutcomeTallySchema = z.object({
  capability: CapabilitySchema,
  ok: count,
  /** Failures by class. */
  failed: z.partialRecord(z.enum(ERROR_CLASSES), count).default({}),
  /** Whether any attempt succeeded in this batch. */
  sawSuccess: z.boolean(),
  /** Classes of the failures after the batch's last success, oldest first (at most 64): consecutive failures. */
  tail: z.array(z.enum(ERROR_CLASSES)).max(64).default([]),
});
export type OutcomeTally = z.infer<typeof OutcomeTallySchema>;

/** `<prefix>.internal.resilience.outcomes.<agentId>`: a worker's attempt outcomes, batched (sent only when there were attempts). */
export const OutcomeBatchSchema = z.object({
  agentId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  sentAt: z.number().int(),
  capabilities: z.array(CapabilitySchema).max(256).default([]),
  tallies: z.array(OutcomeTallySchema).max(256),
});
export type OutcomeBatch = z.infer<typeof OutcomeBatchSchema>;

// ---- breakers (recovery leader → everyone) -------------------------------------------------

export const BREAKER_STATES = ['closed', 'open', 'half_open'] as const;
export type BreakerStateName = (typeof BREAKER_STATES)[number];
export const BREAKER_SCOPES = ['agent', 'capability'] as const;
export type BreakerScope = (typeof BREAKER_SCOPES)[number];

/**
 * KV key `breaker.agent.<agentId>.<capability>` / `breaker.capability.<capability>` and the
 * message on `<prefix>.internal.resilience.breakers`.
 */
export interface BreakerState {
  scope: BreakerScope;
  /** `<agentId>.<capability>` or `<capability>`. */
  key: string;
  capability: string;
  agentId: string | null;
  state: BreakerStateName;
  /** When it entered this state (ISO). */
  since: string;
  /** While open: when it goes half-open (ISO). */
  retryAt: string | null;
  /** Why it last opened: `error_rate` | `consecutive_failures` | `probe_failed` | `all_agents_open`. */
  reason: string | null;
  /** Over the window when it changed: counted failures, attempts, consecutive failures. */
  failures: number;
  attempts: number;
  consecutive: number;
  /** Probe tasks a half-open breaker lets through (per agent). */
  probes: number;
  /** The leader's fencing epoch that wrote it. */
  epoch: number;
}

// ---- load shedding (recovery leader → gateways, fleet overview) -----------------------------

export const SHED_LEVELS = ['none', 'low', 'normal'] as const;
export type ShedLevel = (typeof SHED_LEVELS)[number];
/** Which priorities a level refuses: `low` sheds low; `normal` sheds low and normal; high always flows. */
export const SHED_PRIORITIES: Record<ShedLevel, readonly Priority[]> = { none: [], low: ['low'], normal: ['low', 'normal'] };

/** KV key `shed.<capability>` and the message on `<prefix>.internal.resilience.shedding`. */
export interface ShedState {
  capability: string;
  level: ShedLevel;
  /** The priorities refused while this holds. */
  shedding: Priority[];
  /** `deficit` (pending work exceeds free healthy slots) | `backlog` (pending past the limit) | null. */
  reason: 'deficit' | 'backlog' | null;
  /** Free slots (capacity − in-flight) on up, ready agents hosting it whose breaker is not open. */
  freeCapacity: number;
  /** Tasks waiting in the work queue, all priorities. */
  pending: number;
  pendingByPriority: Record<Priority, number>;
  /** Healthy agents hosting it. */
  agentsUp: number;
  since: string;
  updatedAt: string;
  /** Gateways ignore a degraded state past this (the leader refreshes it while it holds): fail open. */
  expiresAt: string;
  /** What refused callers are told to wait, seconds. */
  retryAfterS: number;
  epoch: number;
}

// ---- dead letters -------------------------------------------------------------------------

export const DeadLetterIdSchema = z.string().regex(/^[1-9][0-9]{0,15}$/, 'id must be a dead-letter id (a positive integer)');

export const ListDeadLettersQuerySchema = z
  .object({
    capability: CapabilitySchema.optional(),
    tenant: TenantIdSchema.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    since: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export type ListDeadLettersQuery = z.infer<typeof ListDeadLettersQuerySchema>;

export const RedriveBodySchema = z
  .object({
    input: z.unknown().optional(),
    priority: z.enum(PRIORITIES).optional(),
  })
  .strict();
export type RedriveBody = z.infer<typeof RedriveBodySchema>;

export const PurgeDeadLettersQuerySchema = z.object({ capability: CapabilitySchema.optional() }).strict();

/** Internal requests: `tenantId` set = scoped to that tenant's tasks (another tenant's entry is "not found"). */
const scope = { tenantId: TenantIdSchema.optional() };
export const DlqListRequestSchema = z.object({ ...scope, capability: CapabilitySchema.optional(), tenant: TenantIdSchema.optional(), limit: z.number().int().min(1).max(1000).default(100), since: z.string().optional() });
export const DlqIdRequestSchema = z.object({ ...scope, id: DeadLetterIdSchema });
export const DlqRedriveRequestSchema = z.object({
  ...scope,
  id: DeadLetterIdSchema,
  /** Present = replace the input (`null` is a valid input). */
  input: z.object({ value: z.unknown() }).optional(),
  priority: z.enum(PRIORITIES).optional(),
  maxInputBytes: z.number().int().min(1).optional(),
  /** The tenant's running-task ceiling from its admission (null = unlimited): the redriven task takes a slot like a submitted one. */
  maxConcurrent: z.number().int().min(1).nullable().optional(),
});
export const DlqPurgeRequestSchema = z.object({ ...scope, capability: CapabilitySchema.optional() });

export interface DeadLetterSummary {
  id: string;
  taskId: string;
  tenantId: string;
  capability: string;
  priority: Priority;
  deadLetteredAt: string;
  attempts: number;
  lastError: TaskError | null;
  /** Stable hash of capability + canonical input + final error code. */
  fingerprint: string;
  /** Dead letters in the stream with the same fingerprint. */
  fingerprintCount: number;
  /** Times this task was already redriven (the cap is recovery's DLQ_REDRIVE_MAX). */
  redrives: number;
}
export interface DeadLetterDetail extends DeadLetterSummary {
  task: QueuedTask;
  /** Every attempt's error, oldest first. */
  errors: TaskError[];
}
export interface RedriveReply {
  id: string;
  taskId: string;
  status: 'queued';
  priority: Priority;
  inputChanged: boolean;
}
/** A redrive checked, not done (found for this tenant, under the cap, input size): what it would queue, for the gateway to admit like a submit. */
export interface RedriveCheck {
  id: string;
  taskId: string;
  tenantId: string;
  capability: string;
  priority: Priority;
  metadata: Record<string, unknown>;
}
export interface PurgeReply {
  purged: number;
}
export type { ErrorClass };
