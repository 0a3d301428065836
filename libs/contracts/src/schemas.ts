/**
 * Payload schemas, one per message, shared by the NATS and HTTP edges.
 * Objects strip unknown keys (never stored); `.strict()` is used where an unknown field is
 * more likely a caller's mistake than a newer client.
 */
import { z } from 'zod';
import { CAPABILITY_PATTERN, PRIORITIES, TASK_STATUSES } from './subjects';
import { ERROR_CLASSES } from './resilience-classes';
import { boundedJson } from './json-depth';

/**
 * `agent`: registers agents (agent protocol v1, docs/agent-protocol.md). Only keys of the system
 * tenant hold it, never together with another scope, and `admin` does not imply it (scopeGrants):
 * an agent key passes no HTTP route, an admin key registers no agent.
 */
export const SCOPES = ['tasks:submit', 'tasks:read', 'fleet:read', 'alerts:read', 'alerts:write', 'admin', 'agent'] as const;
export type Scope = (typeof SCOPES)[number];

/** Whether a key holding `scopes` has `permission`: its own, or any but `agent` through `admin`. */
export function scopeGrants(scopes: readonly Scope[], permission: Scope): boolean {
  return scopes.includes(permission) || (permission !== 'agent' && scopes.includes('admin'));
}

export const MAX_TIMEOUT_MS = 24 * 3600 * 1000;
const jsonValue: z.ZodType<unknown> = z.unknown();
const id = (what: string) => z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, `${what} must be 1-64 characters of A-Z a-z 0-9 _ -`);

export const CapabilitySchema = z.string().regex(CAPABILITY_PATTERN, 'capability must match ^[a-z0-9][a-z0-9-]{0,62}$');
export const TaskIdSchema = id('taskId');
export const TenantIdSchema = id('tenantId');

export const SubmitTaskRequestSchema = z.object({
  capability: CapabilitySchema,
  input: boundedJson.optional().transform((v) => (v === undefined ? null : v)),
  priority: z.enum(PRIORITIES).default('normal'),
  timeoutMs: z.number().int().min(1).max(MAX_TIMEOUT_MS).default(30_000),
  wait: z.boolean().default(false),
  metadata: z.record(z.string().max(128), boundedJson).default({}),
});
export type SubmitTaskRequest = z.infer<typeof SubmitTaskRequestSchema>;

export const TaskIdRequestSchema = z.object({ taskId: TaskIdSchema });
export type TaskIdRequest = z.infer<typeof TaskIdRequestSchema>;

export const WaitQuerySchema = z.object({
  timeoutMs: z.coerce.number().int().min(0).max(MAX_TIMEOUT_MS).default(30_000),
});

export const ListTasksQuerySchema = z.object({
  status: z.enum(TASK_STATUSES).optional(),
  capability: CapabilitySchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type ListTasksQuery = z.infer<typeof ListTasksQuerySchema>;

export const TaskErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
  attempt: z.number().int().optional(),
  agentId: z.string().optional(),
  at: z.string().optional(),
  /** Why the attempt failed, as the circuit breakers see it (resilience-classes.ts). */
  class: z.enum(ERROR_CLASSES).optional(),
});
export type TaskError = z.infer<typeof TaskErrorSchema>;

/** The full stored record. `toPublicTask` decides what a tenant sees. */
export const TaskRecordSchema = z.object({
  taskId: TaskIdSchema,
  tenantId: TenantIdSchema,
  capability: CapabilitySchema,
  priority: z.enum(PRIORITIES),
  status: z.enum(TASK_STATUSES),
  input: jsonValue,
  metadata: z.record(z.string(), jsonValue),
  timeoutMs: z.number().int(),
  deadlineAt: z.string(),
  idempotencyKey: z.string().optional(),
  result: jsonValue.optional(),
  error: TaskErrorSchema.nullable().optional(),
  errors: z.array(TaskErrorSchema).default([]),
  agentId: z.string().nullable().optional(),
  attempts: z.number().int().default(0),
  progress: jsonValue.optional(),
  createdAt: z.string(),
  startedAt: z.string().nullable().optional(),
  finishedAt: z.string().nullable().optional(),
  traceparent: z.string().optional(),
  /** Fencing token: who runs the task now; `epoch` goes up with every start (see libs/tasks markRunning). */
  lease: z.object({ agentId: z.string(), epoch: z.number().int() }).optional(),
});
export type TaskRecord = z.infer<typeof TaskRecordSchema>;

export interface PublicTask {
  taskId: string;
  status: TaskRecord['status'];
  capability: string;
  priority: TaskRecord['priority'];
  result: unknown;
  error: TaskError | null;
  agentId: string | null;
  attempts: number;
  metadata: Record<string, unknown>;
  progress?: unknown;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export function toPublicTask(r: TaskRecord): PublicTask {
  const out: PublicTask = {
    taskId: r.taskId,
    status: r.status,
    capability: r.capability,
    priority: r.priority,
    result: r.result ?? null,
    error: r.error ?? null,
    agentId: r.agentId ?? null,
    attempts: r.attempts,
    metadata: r.metadata,
    createdAt: r.createdAt,
    startedAt: r.startedAt ?? null,
    finishedAt: r.finishedAt ?? null,
  };
  if (r.progress !== undefined) out.progress = r.progress;
  return out;
}

export interface SubmitReply {
  taskId: string;
  status: 'queued';
}

/** What travels on the work queue. Everything an agent needs, so a worker never reads the record first. */
export const QueuedTaskSchema = z.object({
  taskId: TaskIdSchema,
  tenantId: TenantIdSchema,
  capability: CapabilitySchema,
  priority: z.enum(PRIORITIES),
  input: jsonValue,
  metadata: z.record(z.string(), jsonValue),
  timeoutMs: z.number().int(),
  deadlineAt: z.string(),
  createdAt: z.string(),
  idempotencyKey: z.string().optional(),
});
export type QueuedTask = z.infer<typeof QueuedTaskSchema>;

export const TaskEventSchema = z.object({
  taskId: TaskIdSchema,
  tenantId: TenantIdSchema,
  status: z.enum(TASK_STATUSES),
  capability: CapabilitySchema,
  agentId: z.string().nullable().optional(),
  attempts: z.number().int(),
  at: z.string(),
  /** On a `running` event that reports progress: what the agent reported. */
  progress: jsonValue.optional(),
});
export type TaskEvent = z.infer<typeof TaskEventSchema>;

/** The dead-letter entry: the task and every attempt's error. */
export interface DeadLetter {
  task: QueuedTask;
  errors: TaskError[];
  deadLetteredAt: string;
}

// ---- auth ---------------------------------------------------------------------------------

export const AuthorizeRequestSchema = z.object({
  credential: z.string().max(4096),
  /** When given, a key without it is refused; when omitted, the caller checks the returned scopes. */
  permission: z.enum(SCOPES).optional(),
});
export type AuthorizeRequest = z.infer<typeof AuthorizeRequestSchema>;

export interface Principal {
  keyId: string;
  tenantId: string;
  scopes: Scope[];
  /** Seconds since epoch after which this principal must be re-checked. */
  expiresAt?: string | null;
}

export const CreateKeyRequestSchema = z
  .object({
    tenantId: TenantIdSchema,
    scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length),
    name: z.string().min(1).max(128).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export type CreateKeyRequest = z.infer<typeof CreateKeyRequestSchema>;

export interface ApiKeyView {
  id: string;
  prefix: string;
  last4: string;
  tenantId: string;
  scopes: Scope[];
  name: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}
export interface CreatedKey extends ApiKeyView {
  key: string;
}

export const ListKeysRequestSchema = z.object({ tenantId: TenantIdSchema.optional() });
export const KeyIdRequestSchema = z.object({ id: id('id') });

// ---- tenancy ------------------------------------------------------------------------------

export const TENANT_STATUSES = ['active', 'suspended'] as const;
export const CreateTenantRequestSchema = z
  .object({
    name: z.string().trim().min(1).max(128),
    plan: z.string().regex(/^[a-z0-9-]{1,32}$/).default('free'),
  })
  .strict();
export type CreateTenantRequest = z.infer<typeof CreateTenantRequestSchema>;

export interface Tenant {
  id: string;
  name: string;
  plan: string;
  status: (typeof TENANT_STATUSES)[number];
  createdAt: string;
  updatedAt: string;
}

export const TenantIdRequestSchema = z.object({ id: TenantIdSchema });
export const AdmitRequestSchema = z.object({ tenantId: TenantIdSchema, capability: CapabilitySchema });
export type AdmitRequest = z.infer<typeof AdmitRequestSchema>;
export interface AdmitReply {
  admitted: true;
}
