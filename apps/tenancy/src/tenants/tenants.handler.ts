/** Tenants: create, read, list, change, and the admission decision (with the limits to enforce). */
import {
  type AdmitReply,
  type AdmitRequest,
  type CreateTenantRequest,
  NotFoundError,
  type PatchTenantRequest,
  SYSTEM_TENANT_ID,
  type TenancyTenant,
  TenantInactiveError,
  type TenantPolicy,
  ValidationError,
} from '@sb/contracts';
import { timeSortableId } from '@sb/tasks';
import { isKnownPlan, mergeKeyLimits, PLAN_NAMES, policyOf } from './plans';
import type { TenantStore } from './tenant-store';

export class TenantsHandler {
  constructor(
    private readonly store: TenantStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(req: CreateTenantRequest): Promise<TenancyTenant> {
    assertPlan(req.plan);
    const at = this.now().toISOString();
    const tenant: TenancyTenant = { id: timeSortableId('tn_'), name: req.name, plan: req.plan, status: 'active', createdAt: at, updatedAt: at };
    if (!(await this.store.insert(tenant))) throw new Error('tenant id collision');
    return tenant;
  }

  async get(id: string): Promise<TenancyTenant> {
    const t = await this.store.get(id);
    if (!t) throw new NotFoundError(`Tenant ${id} not found`);
    return t;
  }

  list(): Promise<TenancyTenant[]> {
    return this.store.list();
  }

  /**
   * Apply an already-validated patch (the schema is strict: no id, no unknown fields). Who may
   * send which fields is the gateway's check; here the values are checked against the plan table.
   */
  async patch(req: PatchTenantRequest): Promise<TenancyTenant> {
    const p = req.patch;
    if (p.plan !== undefined) assertPlan(p.plan);
    if (req.id === SYSTEM_TENANT_ID && (p.status === 'suspended' || p.plan !== undefined)) throw new ValidationError('The system tenant cannot be suspended or re-planned');
    const updated = await this.store.update(req.id, (t) => {
      const next: TenancyTenant = { ...t, updatedAt: this.now().toISOString() };
      if (p.name !== undefined) next.name = p.name;
      if (p.plan !== undefined) next.plan = p.plan;
      if (p.status !== undefined) next.status = p.status;
      if (p.limits === null) delete next.limits;
      else if (p.limits !== undefined) next.limits = { ...(t.limits ?? {}), ...p.limits };
      if (p.keyLimits !== undefined) next.keyLimits = mergeKeyLimits(t.keyLimits, p.keyLimits);
      return next;
    });
    if (!updated) throw new NotFoundError(`Tenant ${req.id} not found`);
    return updated;
  }

  /** A task is admitted only for an existing, active tenant. */
  async admit(req: AdmitRequest): Promise<AdmitReply> {
    await this.policy(req.tenantId);
    return { admitted: true };
  }

  /** The admission decision plus the tenant's effective limits (plan + overrides). */
  async policy(tenantId: string): Promise<TenantPolicy> {
    const t = await this.store.get(tenantId);
    if (!t) throw new TenantInactiveError(`Tenant ${tenantId} does not exist`);
    if (t.status !== 'active') throw new TenantInactiveError(`Tenant ${tenantId} is ${t.status}`);
    return policyOf(t);
  }

  /** The platform's own tenant, owner of the bootstrap admin key. */
  async ensureSystemTenant(): Promise<void> {
    if (await this.store.get(SYSTEM_TENANT_ID)) return;
    const at = this.now().toISOString();
    await this.store.insert({ id: SYSTEM_TENANT_ID, name: 'system', plan: 'system', status: 'active', createdAt: at, updatedAt: at });
  }
}

function assertPlan(plan: string): void {
  if (!isKnownPlan(plan)) throw new ValidationError(`Unknown plan "${plan}"; plans are ${PLAN_NAMES.join(', ')}`);
}
