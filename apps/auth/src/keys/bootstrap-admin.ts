/**
 * Ensures an admin key exists on first start. With SB_BOOTSTRAP_ADMIN_KEY set, that key is
 * registered (by hash). Without it, a key is generated and printed once; the marker record
 * stops any later start (or a second replica) from generating another.
 */
import { displayParts, generateApiKey, hashApiKey } from './api-key';
import { bootstrapKeyRecord, type KeyRecord, type KeyStore } from './key-record';

export const BOOTSTRAP_KEY_ID = 'key_bootstrap_admin';

export async function ensureBootstrapAdmin(
  store: KeyStore,
  configuredKey: string | undefined,
  announce: (key: string) => void,
  now: Date = new Date(),
): Promise<'registered' | 'generated' | 'existing'> {
  const existing = await store.findById(BOOTSTRAP_KEY_ID);
  if (configuredKey) {
    const hash = hashApiKey(configuredKey);
    if (existing?.hash === hash && !existing.revokedAt) return 'existing';
    if (await store.findByHash(hash)) return 'existing';
    await store.insert(record(hash, displayParts(configuredKey), now));
    return 'registered';
  }
  if (existing) return 'existing';
  const key = generateApiKey();
  if (await store.insert(record(hashApiKey(key), displayParts(key), now))) {
    announce(key);
    return 'generated';
  }
  return 'existing';
}

const record = (hash: string, parts: { prefix: string; last4: string }, now: Date): KeyRecord => bootstrapKeyRecord({ id: BOOTSTRAP_KEY_ID, scopes: ['admin'], name: 'bootstrap admin' }, hash, parts, now);
