import { type ApiKeyView, type IssueKeyRequest, NotFoundError, ValidationError } from '@sb/contracts';
import type { KeyHasher } from './api-key';
import { type KeyStore, toKeyView } from './key-record';
import { checkMayGrant, checkScopesFitTenant } from './key-policy';
import { storeKey } from './mint-key';

export interface TenantDirectory {
  exists(tenantId: string): Promise<boolean>;
}

/**
 * Issues a key for an existing tenant, on behalf of `by` (key-policy.ts: its own tenant unless
 * it is the platform admin, and only scopes it holds). The edge minted the key and hands it to the
 * caller; auth gets its digest and keeps only the stored hash. An `agent` key belongs to the system tenant and holds nothing else
 * (agents are the platform's, not a tenant's, and such a key must pass no HTTP route).
 */
export class IssueKeyHandler {
  constructor(
    private readonly store: KeyStore,
    private readonly hasher: KeyHasher,
    private readonly tenants: TenantDirectory,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async handle(req: IssueKeyRequest): Promise<ApiKeyView> {
    const now = this.now();
    if (req.expiresAt && Date.parse(req.expiresAt) <= now.getTime()) {
      throw new ValidationError('expiresAt: must be in the future');
    }
    const scopes = [...new Set(req.scopes)];
    checkScopesFitTenant(req.tenantId, scopes);
    checkMayGrant(req.by, req.tenantId, scopes);
    if (!(await this.tenants.exists(req.tenantId))) throw new NotFoundError(`Tenant ${req.tenantId} not found`);
    const record = await storeKey(
      this.store,
      this.hasher,
      req.minted,
      { tenantId: req.tenantId, scopes, name: req.name ?? null, expiresAt: req.expiresAt ? new Date(req.expiresAt).toISOString() : null },
      now,
    );
    return toKeyView(record);
  }
}
