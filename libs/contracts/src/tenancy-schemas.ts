/**
 * Tenancy's wire shapes: plan limits, per-tenant and per-key overrides, the PATCH bodies, the
 * policy the gateway enforces, and the usage report. Bodies are `.strict()`: an unknown or
 * forbidden field is a 400, never stored (mass assignment).
 */
import { z } from 'zod';
import { TENANT_STATUSES, type Tenant, TenantIdSchema } from './schemas';

/** `null` in a limit means "unlimited". */
const count = z.number().int().min(0).max(1e12).nullable();
const rate = z.number().positive().max(1e6);
const burst = z.number().int().min(1).max(1e7);
const model = z.string().min(1).max(128);
const keyId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'key ids are 1-64 characters of A-Z a-z 0-9 _ -');

export const RateSchema = z.object({ rate, burst }).strict();
export type RateSpec = z.infer<typeof RateSchema>;

/** What a plan grants. `submitRate` is per second and may be fractional (0.01 = one per 100 s). */
export const PlanLimitsSchema = z
  .object({
    submitRate: rate,
    submitBurst: burst,
    tasksPerDay: count,
    tokensPerDay: count,
    maxConcurrent: count,
    /** Values of `metadata.model` a task may name; `*` allows any. A task that names no model is always allowed. */
    models: z.array(model).max(256),
  })
  .strict();
export type PlanLimits = z.infer<typeof PlanLimitsSchema>;

export const LimitsOverrideSchema = PlanLimitsSchema.partial().strict();
export type LimitsOverride = z.infer<typeof LimitsOverrideSchema>;
export const KeyLimitsSchema = z.record(keyId, RateSchema.nullable()).refine((m) => Object.keys(m).length <= 1000, 'at most 1000 key overrides');
export type KeyLimits = Record<string, RateSpec>;

/** A tenant as tenancy stores and returns it: the base record plus its overrides. */
export interface TenancyTenant extends Tenant {
  limits?: LimitsOverride;
  /** Per API key submit rate overrides, by key id. */
  keyLimits?: KeyLimits;
}

/** Admin PATCH: anything but the id. `keyLimits` entries set to `null` are removed. */
export const AdminPatchTenantSchema = z
  .object({
    name: z.string().trim().min(1).max(128).optional(),
    plan: z.string().regex(/^[a-z0-9-]{1,32}$/).optional(),
    status: z.enum(TENANT_STATUSES).optional(),
    limits: LimitsOverrideSchema.nullable().optional(),
    keyLimits: KeyLimitsSchema.optional(),
  })
  .strict();
/** A tenant's own key may rename it, nothing else. */
export const SelfPatchTenantSchema = AdminPatchTenantSchema.pick({ name: true }).strict();
export type PatchTenantBody = z.infer<typeof AdminPatchTenantSchema>;

export const PatchTenantRequestSchema = z.object({ id: TenantIdSchema, patch: AdminPatchTenantSchema }).strict();
export type PatchTenantRequest = z.infer<typeof PatchTenantRequestSchema>;

export const TenantPolicyRequestSchema = z.object({ tenantId: TenantIdSchema }).strict();

/** What the gateway enforces for one tenant (cached; evicted on `tenantChanged`). */
export interface TenantPolicy {
  tenantId: string;
  plan: string;
  limits: PlanLimits;
  keyLimits: KeyLimits;
}

export const UsageQuerySchema = z.object({ days: z.coerce.number().int().min(1).max(31).default(7) }).strict();
export const UsageRequestSchema = z.object({ id: TenantIdSchema, days: z.number().int().min(1).max(31).default(7) }).strict();
export type UsageRequest = z.infer<typeof UsageRequestSchema>;

export interface UsageDay {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  tasks: number;
  tokens: number;
  byCapability: Record<string, { tasks: number; tokens: number }>;
}
export interface UsageReport {
  tenantId: string;
  plan: string;
  days: UsageDay[];
  /** Today's quota counters next to their limits (`null` limit = unlimited). */
  today: { tasksSubmitted: number; tasksPerDay: number | null; tokens: number; tokensPerDay: number | null };
}

/** Per-task usage an agent may report: `result.usage.tokens` (a non-negative integer). */
export function tokensOf(result: unknown): number {
  const t = (result as { usage?: { tokens?: unknown } } | null | undefined)?.usage?.tokens;
  return typeof t === 'number' && Number.isFinite(t) && t > 0 ? Math.floor(t) : 0;
}

/** May a task naming `model` run under these limits? (`*` allows any model.) */
export function modelAllowed(limits: Pick<PlanLimits, 'models'>, model: string): boolean {
  return limits.models.includes('*') || limits.models.includes(model);
}

/** A worker asks for, renews or gives back a tenant's concurrent-task slot (a lease). */
export const SlotRequestSchema = z
  .object({
    op: z.enum(['acquire', 'renew', 'release']),
    tenantId: TenantIdSchema,
    taskId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    leaseMs: z.number().int().min(100).max(3_600_000).default(30_000),
  })
  .strict();
export type SlotRequest = z.infer<typeof SlotRequestSchema>;
export interface SlotReply {
  granted: boolean;
  retryAfterMs?: number;
}
