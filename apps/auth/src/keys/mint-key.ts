import { timeSortableId } from '@sb/tasks';
import { displayParts, generateApiKey, hashApiKey } from './api-key';
import type { KeyRecord, KeyStore } from './key-record';

export type KeyAttributes = Pick<KeyRecord, 'tenantId' | 'scopes' | 'name' | 'expiresAt'>;

/** A new key: generated, stored by hash only, and returned once with its record. Issue and rotate both mint this way. */
export async function mintKey(store: KeyStore, attrs: KeyAttributes, now: Date): Promise<{ key: string; record: KeyRecord }> {
  const key = generateApiKey();
  const record: KeyRecord = {
    id: timeSortableId('key_'),
    hash: hashApiKey(key),
    ...displayParts(key),
    ...attrs,
    createdAt: now.toISOString(),
    revokedAt: null,
  };
  if (!(await store.insert(record))) throw new Error('key hash collision'); // 190 bits of entropy: never in practice
  return { key, record };
}
