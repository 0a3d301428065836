/**
 * Tenants, keys, tokens and the security report at the edge, behind the AuthGuard (admin, or
 * any key for its own tenant and its own token): validate what the pipes did not, scope, forward
 * to the owning service.
 */
import {
  AuthEndpoints,
  type CreatedKey,
  type CreateKeyRequest,
  type CreateTenantRequest,
  Endpoints,
  InvalidCredentialsError,
  KeyIdRequestSchema,
  ListKeysRequestSchema,
  NotFoundError,
  type Principal,
  type RotatedKey,
  RotateKeyBodySchema,
  SecurityReportQuerySchema,
  TenantIdRequestSchema,
  TokenBodySchema,
} from '@sb/contracts';
import { apiKeyDigest, type Bus, validate } from '@sb/messaging';
import type { z } from 'zod';
import { type Authenticator, isAdmin, keyActor, parseBearer } from '../auth/authenticator';
import { mintApiKey } from '../auth/key-minting';
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

  /**
   * Key management on behalf of the caller (`by`): auth decides what it may do (its own tenant,
   * scopes it holds). A new key is minted here and shown only in this reply: auth gets its digest.
   */
  async createKey(p: Principal, req: CreateKeyRequest): Promise<CreatedKey> {
    const { key, minted } = mintApiKey();
    return { ...(await this.bus.request(Endpoints.createKey, { ...req, by: keyActor(p), minted })), key };
  }

  listKeys(p: Principal, query: z.output<typeof ListKeysRequestSchema>) {
    return this.bus.request(Endpoints.listKeys, { ...query, by: keyActor(p) });
  }

  revokeKey(p: Principal, id: string) {
    return this.bus.request(Endpoints.revokeKey, { ...validate(KeyIdRequestSchema, { id }), by: keyActor(p) });
  }

  async rotateKey(p: Principal, id: string, body: unknown): Promise<RotatedKey> {
    const { id: keyId } = validate(KeyIdRequestSchema, { id });
    const { key, minted } = mintApiKey();
    const rotated = await this.bus.request(AuthEndpoints.rotateKey, { id: keyId, ...validate(RotateKeyBodySchema, body === undefined ? {} : body), by: keyActor(p), minted });
    return { ...rotated, key };
  }

  /** Key → access token. The credential (already authenticated) must be an API key: a token cannot mint tokens. Auth gets its SHA-256, not the key. */
  issueToken(authorization: string | undefined, body: unknown) {
    const credential = parseBearer(authorization);
    if (looksLikeJwt(credential)) throw new InvalidCredentialsError('An API key is required to obtain an access token');
    return this.bus.request(AuthEndpoints.issueToken, { keyDigest: apiKeyDigest(credential), ...validate(TokenBodySchema, body === undefined ? {} : body) });
  }

  securityReport(query: z.output<typeof SecurityReportQuerySchema>) {
    return this.bus.request(AuthEndpoints.securityReport, query, { timeoutMs: 15_000 });
  }
}
