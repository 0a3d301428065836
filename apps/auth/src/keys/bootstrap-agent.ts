/**
 * The bootstrap agent key: with SB_BOOTSTRAP_AGENT_KEY set, that key (by hash) is a system-tenant
 * key holding `['agent']` under the fixed id `key_bootstrap_agent`, so a fleet's agents can
 * register from the first start. When the setting changes or is removed, the key it named stops
 * being valid at once: its record is revoked, kept for the listing under an id of its own, and
 * every cached check of it is evicted (the revocation notice gateways and collectors follow).
 * A revoked key is never brought back, nor is another key's value taken over.
 */
import { displayParts, hashApiKey } from './api-key';
import { bootstrapKeyRecord, type KeyRecord, type KeyStore } from './key-record';
import type { RevocationNotifier } from './revoke-key.handler';

export const BOOTSTRAP_AGENT_KEY_ID = 'key_bootstrap_agent';

export type BootstrapAgentOutcome =
  /** Not configured, and no bootstrap agent key is valid. */
  | 'none'
  | 'registered'
  | 'existing'
  /** The configured key replaced the previous one, which is revoked. */
  | 'replaced'
  /** Not configured any more: the previous key is revoked. */
  | 'revoked'
  /** The configured value is a revoked or another key's: not registered (configure a new value). */
  | 'conflict';

export async function ensureBootstrapAgent(
  store: KeyStore,
  configuredKey: string | undefined,
  notifier: RevocationNotifier,
  now: Date = new Date(),
): Promise<BootstrapAgentOutcome> {
  const current = await store.findById(BOOTSTRAP_AGENT_KEY_ID);
  const live = current && !current.revokedAt ? current : undefined;
  if (!configuredKey) {
    if (!live) return 'none';
    await retire(store, live, notifier, now);
    return 'revoked';
  }
  const hash = hashApiKey(configuredKey);
  if (live?.hash === hash) return 'existing';
  const taken = await store.findByHash(hash);
  // Another replica registered it a moment ago (and retired the previous one).
  if (taken?.id === BOOTSTRAP_AGENT_KEY_ID && !taken.revokedAt) return 'existing';
  if (taken) return 'conflict';
  if (live) await retire(store, live, notifier, now);
  if (!(await store.insert(record(hash, displayParts(configuredKey), now)))) return 'existing';
  return live ? 'replaced' : 'registered';
}

/** Revoke the previous key under an id of its own (derived from it, so replicas agree): the fixed id names the current one. */
async function retire(store: KeyStore, old: KeyRecord, notifier: RevocationNotifier, now: Date): Promise<void> {
  const id = `${BOOTSTRAP_AGENT_KEY_ID}_${old.createdAt.replace(/[^0-9A-Za-z]/g, '')}`;
  const retired: KeyRecord = { ...old, id, name: 'bootstrap agent (replaced)', revokedAt: now.toISOString() };
  await store.update(retired);
  notifier.revoked(retired);
}

const record = (hash: string, parts: { prefix: string; last4: string }, now: Date): KeyRecord => bootstrapKeyRecord({ id: BOOTSTRAP_AGENT_KEY_ID, scopes: ['agent'], name: 'bootstrap agent' }, hash, parts, now);
