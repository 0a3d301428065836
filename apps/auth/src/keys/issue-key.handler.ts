import { type CreatedKey, type CreateKeyRequest, NotFoundError, ValidationError } from '@sb/contracts';
import { type KeyStore, toKeyView } from './key-record';
import { mintKey } from './mint-key';

export interface TenantDirectory {
  exists(tenantId: string): Promise<boolean>;
}

/** Issues a key for an existing tenant. The secret is returned once and only its hash is stored. */
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
    if (!(await this.tenants.exists(req.tenantId))) throw new NotFoundError(`Tenant ${req.tenantId} not found`);
    const { key, record } = await mintKey(
      this.store,
      { tenantId: req.tenantId, scopes: [...new Set(req.scopes)], name: req.name ?? null, expiresAt: req.expiresAt ? new Date(req.expiresAt).toISOString() : null },
      now,
    );
    return { ...toKeyView(record), key };
  }
}
