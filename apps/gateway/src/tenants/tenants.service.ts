/**
 * Changing a tenant and reading its usage at the edge, behind the AuthGuard: decide which fields the
 * caller may send (admin: name, plan, status, limits, keyLimits; the tenant's own key: name
 * only), validate strictly (unknown or forbidden fields → 400; the id is never changeable),
 * forward to tenancy. Another tenant's id is "not found", never "forbidden".
 */
import { AdminPatchTenantSchema, NotFoundError, type Principal, SelfPatchTenantSchema, TenancyEndpoints, TenantIdRequestSchema, UsageQuerySchema } from '@sb/contracts';
import { type Bus, validate } from '@sb/messaging';
import { isAdmin } from '../auth/authenticator';

export class TenantsService {
  constructor(private readonly bus: Bus) {}

  patch(p: Principal, id: string, body: unknown) {
    const tenantId = this.visible(p, id);
    const patch = isAdmin(p) ? validate(AdminPatchTenantSchema, body) : validate(SelfPatchTenantSchema, body);
    return this.bus.request(TenancyEndpoints.patchTenant, { id: tenantId, patch });
  }

  usage(p: Principal, id: string, query: unknown) {
    const tenantId = this.visible(p, id);
    const { days } = validate(UsageQuerySchema, query ?? {});
    return this.bus.request(TenancyEndpoints.usage, { id: tenantId, days });
  }

  private visible(p: Principal, id: string): string {
    const { id: tenantId } = validate(TenantIdRequestSchema, { id });
    if (!isAdmin(p) && p.tenantId !== tenantId) throw new NotFoundError(`Tenant ${tenantId} not found`);
    return tenantId;
  }
}
