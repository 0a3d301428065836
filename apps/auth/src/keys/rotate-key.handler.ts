/**
 * Rotation with an overlap window: a new key (same tenant, scopes, name; shown once) and the
 * old key's expiry moved to now + overlap. Both work during the overlap; gateways are told the
 * old key's new expiry at once (cached checks evicted, its access tokens refused after it).
 */
import { ConflictError, NotFoundError, type RotatedKey, type RotateKeyRequest } from '@sb/contracts';
import { type KeyStore, toKeyView } from './key-record';
import { mintKey } from './mint-key';
import type { RevocationNotifier } from './revoke-key.handler';

export class RotateKeyHandler {
  constructor(
    private readonly store: KeyStore,
    private readonly notifier: RevocationNotifier,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async handle(req: RotateKeyRequest): Promise<RotatedKey> {
    const old = await this.store.findById(req.id);
    if (!old) throw new NotFoundError(`Key ${req.id} not found`);
    if (old.bootstrap) throw new ConflictError('A bootstrap key is configured, not rotated: change SB_BOOTSTRAP_ADMIN_KEY / SB_BOOTSTRAP_AGENT_KEY, or issue another key');
    const now = this.now();
    if (old.revokedAt || (old.expiresAt && Date.parse(old.expiresAt) <= now.getTime())) throw new ConflictError(`Key ${req.id} is revoked or expired`);
    const { key, record: fresh } = await mintKey(this.store, { tenantId: old.tenantId, scopes: old.scopes, name: old.name, expiresAt: old.expiresAt }, now);
    const overlapEnd = now.getTime() + req.overlapSeconds * 1000;
    if (!old.expiresAt || Date.parse(old.expiresAt) > overlapEnd) old.expiresAt = new Date(overlapEnd).toISOString();
    await this.store.update(old);
    this.notifier.revoked(old);
    return { ...toKeyView(fresh), key, previous: toKeyView(old) };
  }
}
