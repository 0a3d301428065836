/**
 * The plan table and how a tenant's effective limits are resolved: plan defaults, then the
 * tenant's own overrides. Pure; unit-tested in plans.spec.ts.
 *
 * `null` means unlimited. `submitRate` is per second (GCRA refill), `submitBurst` how many may
 * pass at once; the same numbers are each API key's default, which a per-key override narrows
 * (or widens, but never beyond the tenant bucket, which is always checked too).
 */
import type { KeyLimits, LimitsOverride, PlanLimits, TenancyTenant, TenantPolicy } from '@sb/contracts';

export const PLANS: Readonly<Record<string, PlanLimits>> = {
  free: { submitRate: 20, submitBurst: 50, tasksPerDay: 1_000, tokensPerDay: 100_000, maxConcurrent: 5, models: ['small'] },
  pro: { submitRate: 100, submitBurst: 200, tasksPerDay: 50_000, tokensPerDay: 5_000_000, maxConcurrent: 50, models: ['small', 'medium', 'large'] },
  enterprise: { submitRate: 1_000, submitBurst: 2_000, tasksPerDay: null, tokensPerDay: null, maxConcurrent: 500, models: ['*'] },
  /** The platform's own tenant (bootstrap admin key). */
  system: { submitRate: 1_000, submitBurst: 2_000, tasksPerDay: null, tokensPerDay: null, maxConcurrent: null, models: ['*'] },
};

export const PLAN_NAMES = Object.keys(PLANS);

export function isKnownPlan(plan: string): boolean {
  return Object.prototype.hasOwnProperty.call(PLANS, plan);
}

/** Plan defaults overlaid with the tenant's overrides; an unknown plan gets `free` (the safest). */
export function effectiveLimits(plan: string, overrides: LimitsOverride | undefined): PlanLimits {
  const base = isKnownPlan(plan) ? PLANS[plan] : PLANS.free;
  const out: PlanLimits = { ...base, models: [...base.models] };
  for (const [k, v] of Object.entries(overrides ?? {}) as Array<[keyof PlanLimits, unknown]>) {
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = Array.isArray(v) ? [...v] : v;
  }
  return out;
}

export function policyOf(t: TenancyTenant): TenantPolicy {
  return { tenantId: t.id, plan: t.plan, limits: effectiveLimits(t.plan, t.limits), keyLimits: { ...(t.keyLimits ?? {}) } };
}

/** Merge a PATCH's keyLimits into the stored map: `null` removes an entry. */
export function mergeKeyLimits(current: KeyLimits | undefined, patch: Record<string, { rate: number; burst: number } | null>): KeyLimits {
  const out: KeyLimits = { ...(current ?? {}) };
  for (const [id, v] of Object.entries(patch)) {
    if (v === null) delete out[id];
    else out[id] = { rate: v.rate, burst: v.burst };
  }
  return out;
}

export { modelAllowed } from '@sb/contracts';
