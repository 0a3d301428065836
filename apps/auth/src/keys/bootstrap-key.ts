/**
 * What the bootstrap keys (admin, agent) share: a configured key of the system tenant,
 * registered by its stored hash. Each such key has an id of its own for life
 * (`key_bootstrap_admin_<12 hex of its stored hash>`, so replicas agree), and the role's fixed id
 * (`key_bootstrap_admin`) is an alias naming the current one. When the setting changes, the
 * previous key is revoked under its own id and the revocation announced like any other (caches
 * evicted, its tokens refused), then the new one is registered: a crash in between leaves the
 * old value invalid, and the next start registers the new one. A revoked key is never brought
 * back, nor is another key's value taken over.
 */
import type { Scope } from '@sb/contracts';
import { displayParts, type KeyHasher } from './api-key';
import { bootstrapKeyRecord, type KeyRecord, type KeyStore } from './key-record';
import type { RevocationNotifier } from './revoke-key.handler';

export interface BootstrapRole {
  /** The alias naming the current key; its keys' own ids start with it. */
  id: string;
  scopes: Scope[];
  name: string;
}
export const BOOTSTRAP_ADMIN: BootstrapRole = { id: 'key_bootstrap_admin', scopes: ['admin'], name: 'bootstrap admin' };
export const BOOTSTRAP_AGENT: BootstrapRole = { id: 'key_bootstrap_agent', scopes: ['agent'], name: 'bootstrap agent' };

export interface BootstrapDeps {
  store: KeyStore;
  hasher: KeyHasher;
  notifier: RevocationNotifier;
  now?: Date;
}

export type ConfiguredOutcome =
  | 'registered'
  | 'existing'
  /** The configured key replaced the previous one, which is revoked. */
  | 'replaced'
  /** The configured value is a revoked or another key's: not registered (configure a new value). */
  | 'conflict';

/** The role's current key, if it is valid. */
export async function liveBootstrapKey(store: KeyStore, role: BootstrapRole): Promise<KeyRecord | undefined> {
  const current = await store.findById(role.id);
  return current && !current.revokedAt ? current : undefined;
}

export async function registerConfigured(deps: BootstrapDeps, role: BootstrapRole, key: string): Promise<ConfiguredOutcome> {
  const { store } = deps;
  const hash = deps.hasher.fromKey(key);
  const live = await liveBootstrapKey(store, role);
  if (live?.hash === hash) return 'existing';
  const taken = await store.findByHash(hash);
  if (taken) {
    if (!isOfRole(taken, role) || taken.revokedAt) return 'conflict';
    // Another replica registered it a moment ago (and retired the previous one).
    await store.alias(role.id, hash);
    return 'existing';
  }
  if (live) await retire(deps, live, role);
  const now = deps.now ?? new Date();
  await store.insert(bootstrapKeyRecord({ id: `${role.id}_${hash.slice(0, 12)}`, scopes: role.scopes, name: role.name }, hash, displayParts(key), now));
  await store.alias(role.id, hash);
  return live ? 'replaced' : 'registered';
}

/** Revoke a bootstrap key under its own id, and say so to every gateway and collector. */
export async function retire(deps: BootstrapDeps, old: KeyRecord, role: BootstrapRole): Promise<void> {
  const retired: KeyRecord = { ...old, name: `${role.name} (replaced)`, revokedAt: (deps.now ?? new Date()).toISOString() };
  await deps.store.update(retired);
  deps.notifier.revoked(retired);
}

function isOfRole(r: KeyRecord, role: BootstrapRole): boolean {
  return !!r.bootstrap && (r.id === role.id || r.id.startsWith(`${role.id}_`));
}
