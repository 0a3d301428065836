import { type ApiKeyView, NotFoundError } from '@sb/contracts';
import { type KeyStore, toKeyView } from './key-record';

export interface RevocationNotifier {
  /** Tell every gateway to forget cached verifications of this key hash. */
  revoked(hash: string): void;
}

export class RevokeKeyHandler {
  constructor(
    private readonly store: KeyStore,
    private readonly notifier: RevocationNotifier,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async handle(id: string): Promise<ApiKeyView> {
    const r = await this.store.findById(id);
    if (!r) throw new NotFoundError(`Key ${id} not found`);
    if (!r.revokedAt) {
      r.revokedAt = this.now().toISOString();
      await this.store.update(r);
    }
    this.notifier.revoked(r.hash);
    return toKeyView(r);
  }
}

export class ListKeysHandler {
  constructor(private readonly store: KeyStore) {}
  async handle(tenantId?: string): Promise<ApiKeyView[]> {
    return (await this.store.list(tenantId)).map(toKeyView);
  }
}
