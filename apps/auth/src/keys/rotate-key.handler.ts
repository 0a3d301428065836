/**
 * Rotation with an overlap window: a new key (same tenant, scopes, name; minted by the edge,
 * which shows it once) and the old key's expiry moved to now + overlap. Both work during the
 * overlap; gateways are told the old key's new expiry at once (cached checks evicted, its
 * access tokens refused after it).
 * The caller must be able to manage the key (key-policy.ts). The new key holds the scopes the
 * old one really had (effectiveScopes): operator scopes an old tenant key still lists are dropped.
 */
import { ConflictError, effectiveScopes, type RotatedKeyRecord, type RotateKeyRequest } from '@sb/contracts';
import type { KeyHasher } from './api-key';
import { type KeyStore, toKeyView } from './key-record';
import { checkMayManage } from './key-policy';
import { storeKey } from './mint-key';
import type { RevocationNotifier } from './revoke-key.handler';

export class RotateKeyHandler {
  constructor(
    private readonly store: KeyStore,
    private readonly hasher: KeyHasher,
    private readonly notifier: RevocationNotifier,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async handle(req: RotateKeyRequest): Promise<RotatedKeyRecord> {
    const old = checkMayManage(req.by, await this.store.findById(req.id), req.id);
    if (old.bootstrap) throw new ConflictError('A bootstrap key is configured, not rotated: change SB_BOOTSTRAP_ADMIN_KEY / SB_BOOTSTRAP_AGENT_KEY, or issue another key');
    const now = this.now();
    if (old.revokedAt || (old.expiresAt && Date.parse(old.expiresAt) <= now.getTime())) throw new ConflictError(`Key ${req.id} is revoked or expired`);
    const scopes = effectiveScopes(old.tenantId, old.scopes);
    if (scopes.length === 0) throw new ConflictError(`Key ${req.id} holds no scope its tenant may hold: issue another key`);
    const fresh = await storeKey(this.store, this.hasher, req.minted, { tenantId: old.tenantId, scopes, name: old.name, expiresAt: old.expiresAt }, now);
    const overlapEnd = now.getTime() + req.overlapSeconds * 1000;
    if (!old.expiresAt || Date.parse(old.expiresAt) > overlapEnd) old.expiresAt = new Date(overlapEnd).toISOString();
    await this.store.update(old);
    this.notifier.revoked(old);
    return { ...toKeyView(fresh), previous: toKeyView(old) };
  }
}
