/**
 * Payload schemas, one per message, shared by the NATS and HTTP edges.
 * Objects strip unknown keys (never stored); `.strict()` is used where an unknown field is
 * more likely a caller's mistake than a newer client.
 */
import { z } from 'zod';
import { CAPABILITY_PATTERN, PRIORITIES, SYSTEM_TENANT_ID, TASK_STATUSES, type TaskStatus } from './subjects';
import { ERROR_CLASSES } from './resilience-classes';
import { boundedJson } from './json-depth';

/**
 * Scopes. A tenant's keys hold tenant scopes: `tasks:submit`, `tasks:read`, and `tenant:admin`
 * (its own tenant: keys, usage; holds both task scopes). The platform's operators hold the
 * operator scopes, which only keys of the system tenant may hold: `admin` (the platform admin:
 * every tenant, every key, everything but `agent`), `fleet:read`, `alerts:read`, `alerts:write`.
 * `agent`: registers agents (agent protocol v1, docs/agent-protocol.md); system tenant only,
 * never together with another scope, and `admin` does not imply it (scopeGrants): an agent key
 * passes no HTTP route, an admin key registers no agent.
 */
export const SCOPES = ['tasks:submit', 'tasks:read', 'fleet:read', 'alerts:read', 'alerts:write', 'admin', 'tenant:admin', 'agent'] as const;
export type Scope = (typeof SCOPES)[number];
export const TENANT_SCOPES: readonly Scope[] = ['tasks:submit', 'tasks:read', 'tenant:admin'];
/** Only keys of the system tenant hold these; they read or change every tenant's state. */
export const OPERATOR_SCOPES: readonly Scope[] = ['admin', 'fleet:read', 'alerts:read', 'alerts:write', 'agent'];

/** Whether a key holding `scopes` has `permission`: its own; any but `agent` through `admin`; a tenant scope through `tenant:admin`. */
export function scopeGrants(scopes: readonly Scope[], permission: Scope): boolean {
  if (scopes.includes(permission)) return true;
  if (permission === 'agent') return false;
  if (scopes.includes('admin')) return true;
  return scopes.includes('tenant:admin') && TENANT_SCOPES.includes(permission);
}

/**
 * The scopes a key of `tenantId` really has: operator scopes count in the system tenant only
 * (a record or token from before they were refused to tenants grants none of them), and a
 * tenant's `admin` from then is read as its `tenant:admin`. Auth and every edge apply it.
 */
export function effectiveScopes(tenantId: string, scopes: readonly Scope[]): Scope[] {
  if (tenantId === SYSTEM_TENANT_ID) return [...scopes];
  const mapped = scopes.map((s): Scope => (s === 'admin' ? 'tenant:admin' : s)).filter((s) => TENANT_SCOPES.includes(s));
  return [...new Set(mapped)];
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

/** Where the next page of a list starts: the previous page's `Sb-Next-Cursor` header, opaque to clients. */
export const ListCursorSchema = z.string().regex(/^[1-9][0-9]{0,15}$/, 'cursor must be the Sb-Next-Cursor of a previous page');

/** Most recently changed first; a page is at most `limit` tasks, and `Sb-Next-Cursor` names the next one. */
export const ListTasksQuerySchema = z.object({
  status: z.enum(TASK_STATUSES).optional(),
  capability: CapabilitySchema.optional(),
  /** Platform admins only: another tenant's tasks (anyone else naming another tenant gets "not found"). */
  tenantId: TenantIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: ListCursorSchema.optional(),
});
export type ListTasksQuery = z.infer<typeof ListTasksQuerySchema>;

/**
 * `?tenantId=` on a read of one task (its trace, its detail): platform admins only, like
 * ListTasksQuery's. Other parameters are stripped, as they were ignored before it existed.
 */
export const TenantScopeQuerySchema = z.object({ tenantId: TenantIdSchema.optional() });

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
  /** Times the task was redriven from the dead letters (capped, see DLQ_REDRIVE_MAX). */
  redrives: z.number().int().min(0).optional(),
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
  /** Times the task was redriven: travels with it, so the dead letter of a redriven task still counts them. */
  redrives: z.number().int().min(0).optional(),
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

/** The enqueue hint's body (`Events.taskReady`): the process that queued the work. */
export interface TaskReadyHint {
  from: string;
}

/**
 * What one process ended in its last tally period (`Events.taskTally`): the number of tasks per
 * capability and final status. The console's charts add them up instead of every gateway
 * receiving every task's final event.
 */
export interface TaskTally {
  counts: Array<{ capability: string; status: TaskStatus; n: number }>;
}

/** The dead-letter entry: the task and every attempt's error. */
export interface DeadLetter {
  task: QueuedTask;
  errors: TaskError[];
  deadLetteredAt: string;
}

// ---- auth ---------------------------------------------------------------------------------

/**
 * What crosses the bus for an API key: its SHA-256 (hex), computed by the edge that received it.
 * The key itself never does; auth stores HMAC(pepper, digest), so neither a bus listener nor a
 * copy of the key store can present a stored value.
 */
export const KeyDigestSchema = z.string().regex(/^[0-9a-f]{64}$/, 'keyDigest must be the SHA-256 of the key (64 lowercase hex digits)');

export const AuthorizeRequestSchema = z.object({
  keyDigest: KeyDigestSchema,
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

/** Who asks auth to manage keys (the caller's principal, as the edge authenticated it): auth acts within what it may do. */
export const KeyActorSchema = z.object({ keyId: id('keyId'), tenantId: TenantIdSchema, scopes: z.array(z.enum(SCOPES)).max(SCOPES.length) });
export type KeyActor = z.infer<typeof KeyActorSchema>;
/**
 * A key the edge generated for a new or rotated key: auth is sent its digest and what a listing
 * shows of it, and the edge alone hands the key to the caller. A key never crosses the bus.
 */
export const MintedKeySchema = z.object({
  keyDigest: KeyDigestSchema,
  prefix: z.string().regex(/^sbk_[0-9A-Za-z]{4}$/, 'prefix: the key type and four characters'),
  last4: z.string().regex(/^[0-9A-Za-z]{4}$/, 'last4: the last four characters'),
});
export type MintedKey = z.infer<typeof MintedKeySchema>;
/** The bus requests behind POST/GET/DELETE /v1/keys: the public body or query, `by`, and the minted key. Replies carry no key. */
export const IssueKeyRequestSchema = CreateKeyRequestSchema.extend({ by: KeyActorSchema, minted: MintedKeySchema });
export type IssueKeyRequest = z.infer<typeof IssueKeyRequestSchema>;
export const ListKeysByRequestSchema = ListKeysRequestSchema.extend({ by: KeyActorSchema });
export const RevokeKeyRequestSchema = KeyIdRequestSchema.extend({ by: KeyActorSchema });

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
