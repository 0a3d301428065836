/** Tenants and keys at the edge: authenticate, check admin (or own tenant), forward to the owning service. */
import { Endpoints, NotFoundError, type Principal } from '@sb/contracts';
import { type Bus, validate } from '@sb/messaging';
import { CreateKeyRequestSchema, CreateTenantRequestSchema, KeyIdRequestSchema, ListKeysRequestSchema, TenantIdRequestSchema } from '@sb/contracts';
import { type Authenticator, isAdmin } from '../auth/authenticator';

export class AdminService {
  constructor(
    private readonly auth: Authenticator,
    private readonly bus: Bus,
  ) {}

  async createTenant(authorization: string | undefined, body: unknown) {
    await this.auth.authenticate(authorization, 'admin');
    return this.bus.request(Endpoints.createTenant, validate(CreateTenantRequestSchema, body));
  }

  async listTenants(authorization: string | undefined) {
    await this.auth.authenticate(authorization, 'admin');
    return this.bus.request(Endpoints.listTenants, {});
  }

  /** A tenant may read itself; any other tenant's id is "not found", never "forbidden". */
  async getTenant(authorization: string | undefined, id: string) {
    const p = await this.anyKey(authorization);
    const { id: tenantId } = validate(TenantIdRequestSchema, { id });
    if (!isAdmin(p) && p.tenantId !== tenantId) throw new NotFoundError(`Tenant ${tenantId} not found`);
    return this.bus.request(Endpoints.getTenant, { id: tenantId });
  }

  async createKey(authorization: string | undefined, body: unknown) {
    await this.auth.authenticate(authorization, 'admin');
    return this.bus.request(Endpoints.createKey, validate(CreateKeyRequestSchema, body));
  }

  async listKeys(authorization: string | undefined, query: unknown) {
    await this.auth.authenticate(authorization, 'admin');
    return this.bus.request(Endpoints.listKeys, validate(ListKeysRequestSchema, query));
  }

  async revokeKey(authorization: string | undefined, id: string) {
    await this.auth.authenticate(authorization, 'admin');
    return this.bus.request(Endpoints.revokeKey, validate(KeyIdRequestSchema, { id }));
  }

  private anyKey(authorization: string | undefined): Promise<Principal> {
    return this.auth.authenticate(authorization, 'admin', 'tasks:read', 'tasks:submit', 'fleet:read', 'alerts:read', 'alerts:write');
  }
}
