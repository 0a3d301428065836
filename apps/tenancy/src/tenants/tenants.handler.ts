/** Tenants: create, read, list, and the admission decision for a task. */
import { type AdmitReply, type AdmitRequest, type CreateTenantRequest, NotFoundError, SYSTEM_TENANT_ID, type Tenant, TenantInactiveError } from '@sb/contracts';
import { timeSortableId } from '@sb/tasks';
import type { TenantStore } from './tenant-store';

export class TenantsHandler {
  constructor(
    private readonly store: TenantStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(req: CreateTenantRequest): Promise<Tenant> {
    const at = this.now().toISOString();
    const tenant: Tenant = { id: timeSortableId('tn_'), name: req.name, plan: req.plan, status: 'active', createdAt: at, updatedAt: at };
    if (!(await this.store.insert(tenant))) throw new Error('tenant id collision');
    return tenant;
  }

  async get(id: string): Promise<Tenant> {
    const t = await this.store.get(id);
    if (!t) throw new NotFoundError(`Tenant ${id} not found`);
    return t;
  }

  list(): Promise<Tenant[]> {
    return this.store.list();
  }

  /** A task is admitted only for an existing, active tenant. (Quotas and model access lists hook in here.) */
  async admit(req: AdmitRequest): Promise<AdmitReply> {
    const t = await this.store.get(req.tenantId);
    if (!t) throw new TenantInactiveError(`Tenant ${req.tenantId} does not exist`);
    if (t.status !== 'active') throw new TenantInactiveError(`Tenant ${req.tenantId} is ${t.status}`);
    return { admitted: true };
  }

  /** The platform's own tenant, owner of the bootstrap admin key. */
  async ensureSystemTenant(): Promise<void> {
    if (await this.store.get(SYSTEM_TENANT_ID)) return;
    const at = this.now().toISOString();
    await this.store.insert({ id: SYSTEM_TENANT_ID, name: 'system', plan: 'system', status: 'active', createdAt: at, updatedAt: at });
  }
}
