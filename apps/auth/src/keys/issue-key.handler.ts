import { type CreatedKey, type CreateKeyRequest, NotFoundError, ValidationError } from '@sb/contracts';
import { timeSortableId } from '@sb/tasks';
import { displayParts, generateApiKey, hashApiKey } from './api-key';
import { type KeyRecord, type KeyStore, toKeyView } from './key-record';

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
    const key = generateApiKey();
    const record: KeyRecord = {
      id: timeSortableId('key_'),
      hash: hashApiKey(key),
      ...displayParts(key),
      tenantId: req.tenantId,
      scopes: [...new Set(req.scopes)],
      name: req.name ?? null,
      createdAt: now.toISOString(),
      expiresAt: req.expiresAt ? new Date(req.expiresAt).toISOString() : null,
      revokedAt: null,
    };
    if (!(await this.store.insert(record))) throw new Error('key hash collision'); // 190 bits of entropy: never in practice
    return { ...toKeyView(record), key };
  }
}
