import { ConflictError, type MintedKey } from '@sb/contracts';
import { timeSortableId } from '@sb/tasks';
import type { KeyHasher } from './api-key';
import type { KeyRecord, KeyStore } from './key-record';

export type KeyAttributes = Pick<KeyRecord, 'tenantId' | 'scopes' | 'name' | 'expiresAt'>;

/**
 * A new key's record, stored by its stored hash. The edge minted the key and sent its digest
 * and display parts (MintedKey): auth never sees a key it issues. Issue and rotate both store this way.
 */
export async function storeKey(store: KeyStore, hasher: KeyHasher, minted: MintedKey, attrs: KeyAttributes, now: Date): Promise<KeyRecord> {
  const record: KeyRecord = {
    id: timeSortableId('key_'),
    hash: hasher.fromDigest(minted.keyDigest),
    prefix: minted.prefix,
    last4: minted.last4,
    ...attrs,
    createdAt: now.toISOString(),
    revokedAt: null,
  };
  if (!(await store.insert(record))) throw new ConflictError('This key is already registered: mint another'); // 190 bits of entropy: only a replay
  return record;
}
