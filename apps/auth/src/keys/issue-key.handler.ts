import { type CreatedKey, type CreateKeyRequest, NotFoundError, SYSTEM_TENANT_ID, ValidationError } from '@sb/contracts';
import { type KeyStore, toKeyView } from './key-record';
import { mintKey } from './mint-key';

export interface TenantDirectory {
  exists(tenantId: string): Promise<boolean>;
}

/**
 * Issues a key for an existing tenant. The secret is returned once and only its hash is stored.
 * An `agent` key belongs to the system tenant and holds nothing else (agents are the platform's,
 * not a tenant's, and such a key must pass no HTTP route).
 */
export class IssueKeyHandler {
  constructor(
    private readonly store: KeyStore,
    private readonly tenants: TenantDirectory,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async handle(req: CreateKeyRequest): Promise<CreatedKey> {
    const now = this.now();
    if (req.expiresAt && Date.parse(req.expiresAt) <= now.getTime()) {
      throw new ValidationError('expiresAt: must be in the future');
    }
    if (req.scopes.includes('agent')) {
      if (req.tenantId !== SYSTEM_TENANT_ID) throw new ValidationError(`scopes: an agent key belongs to the ${SYSTEM_TENANT_ID} tenant only (tenantId "${SYSTEM_TENANT_ID}")`);
      if (req.scopes.some((s) => s !== 'agent')) throw new ValidationError('scopes: an agent key holds ["agent"] only');
    }
    if (!(await this.tenants.exists(req.tenantId))) throw new NotFoundError(`Tenant ${req.tenantId} not found`);
    const { key, record } = await mintKey(
      this.store,
      { tenantId: req.tenantId, scopes: [...new Set(req.scopes)], name: req.name ?? null, expiresAt: req.expiresAt ? new Date(req.expiresAt).toISOString() : null },
      now,
    );
    return { ...toKeyView(record), key };
  }
}
