/**
 * Tenants, keys, tokens and the security report at the edge, behind the AuthGuard (admin, or
 * any key for its own tenant and its own token): validate what the pipes did not, scope, forward
 * to the owning service.
 */
import {
  AuthEndpoints,
  type CreateKeyRequest,
  type CreateTenantRequest,
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
import type { z } from 'zod';
import { type Authenticator, isAdmin, parseBearer } from '../auth/authenticator';
import { looksLikeJwt } from '../auth/token-verifier';

export class AdminService {
  constructor(
    private readonly auth: Authenticator,
    private readonly bus: Bus,
  ) {}

  createTenant(req: CreateTenantRequest) {
    return this.bus.request(Endpoints.createTenant, req);
  }

  listTenants() {
    return this.bus.request(Endpoints.listTenants, {});
  }

  /** A tenant may read itself; any other tenant's id is "not found", never "forbidden" (and a security event). */
  async getTenant(p: Principal, id: string) {
    const { id: tenantId } = validate(TenantIdRequestSchema, { id });
    if (!isAdmin(p) && p.tenantId !== tenantId) {
      this.auth.crossTenant(p, tenantId);
      throw new NotFoundError(`Tenant ${tenantId} not found`);
    }
    return this.bus.request(Endpoints.getTenant, { id: tenantId });
  }

  createKey(req: CreateKeyRequest) {
    return this.bus.request(Endpoints.createKey, req);
  }

  listKeys(query: z.output<typeof ListKeysRequestSchema>) {
    return this.bus.request(Endpoints.listKeys, query);
  }

  revokeKey(id: string) {
    return this.bus.request(Endpoints.revokeKey, validate(KeyIdRequestSchema, { id }));
  }

  rotateKey(id: string, body: unknown) {
    const { id: keyId } = validate(KeyIdRequestSchema, { id });
    return this.bus.request(AuthEndpoints.rotateKey, { id: keyId, ...validate(RotateKeyBodySchema, body === undefined ? {} : body) });
  }

  /** Key → access token. The credential (already authenticated) must be an API key: a token cannot mint tokens. */
  issueToken(authorization: string | undefined, body: unknown) {
    const credential = parseBearer(authorization);
    if (looksLikeJwt(credential)) throw new InvalidCredentialsError('An API key is required to obtain an access token');
    return this.bus.request(AuthEndpoints.issueToken, { credential, ...validate(TokenBodySchema, body === undefined ? {} : body) });
  }

  securityReport(query: z.output<typeof SecurityReportQuerySchema>) {
    return this.bus.request(AuthEndpoints.securityReport, query, { timeoutMs: 15_000 });
  }
}
