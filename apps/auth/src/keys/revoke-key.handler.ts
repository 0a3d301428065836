import { type ApiKeyListing, type KeyActor, type KeyInvalidation } from '@sb/contracts';
import { type KeyRecord, type KeyStore, toKeyView } from './key-record';
import { checkMayManage, confinedTenant } from './key-policy';

export interface RevocationNotifier {
  /** Tell every gateway the key was revoked or its expiry moved: evict cached checks, refuse its tokens. */
  revoked(record: KeyRecord): void;
}

export function invalidationOf(r: KeyRecord): KeyInvalidation {
  return { keyId: r.id, revokedAt: r.revokedAt, expiresAt: r.expiresAt };
}

/** Revokes a key `by` may manage (key-policy.ts); another tenant's key is "not found". */
export class RevokeKeyHandler {
  constructor(
    private readonly store: KeyStore,
    private readonly notifier: RevocationNotifier,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async handle(req: { id: string; by: KeyActor }): Promise<ApiKeyListing> {
    const r = checkMayManage(req.by, await this.store.findById(req.id), req.id);
    if (!r.revokedAt) {
      r.revokedAt = this.now().toISOString();
      await this.store.update(r);
    }
    this.notifier.revoked(r);
    return toKeyView(r);
  }
}

/** Keys `by` may see: its own tenant's, or (platform admin) any tenant's or all. */
export class ListKeysHandler {
  constructor(private readonly store: KeyStore) {}
  async handle(req: { tenantId?: string; by: KeyActor }): Promise<ApiKeyListing[]> {
    const confined = confinedTenant(req.by);
    if (confined !== undefined && req.tenantId !== undefined && req.tenantId !== confined) return [];
    return (await this.store.list(confined ?? req.tenantId)).map(toKeyView);
  }
}

/** Keys revoked or expiring within `windowMs` of now: what a gateway booting now must refuse tokens of. */
export class InvalidatedKeysHandler {
  constructor(
    private readonly store: KeyStore,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}
  async handle(): Promise<{ keys: Array<{ keyId: string; notAfter: string }> }> {
    const horizon = this.now() - this.windowMs;
    const keys: Array<{ keyId: string; notAfter: string }> = [];
    for (const r of await this.store.list()) {
      const ends = [r.revokedAt, r.expiresAt].filter((x): x is string => !!x).map(Date.parse);
      if (ends.length === 0) continue;
      const notAfter = Math.min(...ends);
      if (notAfter >= horizon) keys.push({ keyId: r.id, notAfter: new Date(notAfter).toISOString() });
    }
    return { keys };
  }
}
