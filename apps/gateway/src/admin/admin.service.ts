/** Tenants, keys, tokens and the security report at the edge: authenticate, check admin (or own tenant), forward to the owning service. */
import {
  AuthEndpoints,
  CreateKeyRequestSchema,
  CreateTenantRequestSchema,
  Endpoints,
  InvalidCredentialsError,
  KeyIdRequestSchema,
  ListKeysRequestSchema,
  NotFoundError,
  type Principal,
  RotateKeyBodySchema,
  SecurityReportQuerySchema,
  TenantIdRequestSchema,
  TokenBodySchema,
} from '@sb/contracts';
import { type Bus, validate } from '@sb/messaging';
import { type Authenticator, isAdmin, parseBearer } from '../auth/authenticator';
import { looksLikeJwt } from '../auth/token-verifier';

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

  /** A tenant may read itself; any other tenant's id is "not found", never "forbidden" (and a security event). */
  async getTenant(authorization: string | undefined, id: string) {
    const p = await this.anyKey(authorization);
    const { id: tenantId } = validate(TenantIdRequestSchema, { id });
    if (!isAdmin(p) && p.tenantId !== tenantId) {
      this.auth.crossTenant(p, tenantId);
      throw new NotFoundError(`Tenant ${tenantId} not found`);
    }
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

  async rotateKey(authorization: string | undefined, id: string, body: unknown) {
    await this.auth.authenticate(authorization, 'admin');
    const { id: keyId } = validate(KeyIdRequestSchema, { id });
    return this.bus.request(AuthEndpoints.rotateKey, { id: keyId, ...validate(RotateKeyBodySchema, body ?? {}) });
  }

  /** Key → access token. The credential must be an API key (a token cannot mint tokens). */
  async issueToken(authorization: string | undefined, body: unknown) {
    await this.anyKey(authorization);
    const credential = parseBearer(authorization);
    if (looksLikeJwt(credential)) throw new InvalidCredentialsError('An API key is required to obtain an access token');
    return this.bus.request(AuthEndpoints.issueToken, { credential, ...validate(TokenBodySchema, body ?? {}) });
  }

  async securityReport(authorization: string | undefined, query: unknown) {
    await this.auth.authenticate(authorization, 'admin');
    return this.bus.request(AuthEndpoints.securityReport, validate(SecurityReportQuerySchema, query ?? {}), { timeoutMs: 15_000 });
  }

  private anyKey(authorization: string | undefined): Promise<Principal> {
    return this.auth.authenticate(authorization, 'admin', 'tasks:read', 'tasks:submit', 'fleet:read', 'alerts:read', 'alerts:write');
  }
}
