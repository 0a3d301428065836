import { type ApiKeyListing, type Scope, SYSTEM_TENANT_ID } from '@sb/contracts';

/** Stored per key: what a listing shows, plus the stored `hash` of the secret (KeyHasher: never the secret, nor its digest). */
export interface KeyRecord extends Omit<ApiKeyListing, 'lastUsedAt'> {
  hash: string;
  lastUsedAt?: string | null;
  bootstrap?: boolean;
}

export interface KeyStore {
  findByHash(hash: string): Promise<KeyRecord | undefined>;
  findById(id: string): Promise<KeyRecord | undefined>;
  /** Insert a new key; false if the hash is already stored. */
  insert(record: KeyRecord): Promise<boolean>;
  update(record: KeyRecord): Promise<void>;
  /** Make findById(id) find the record stored under `hash` (the current bootstrap key's fixed id). */
  alias(id: string, hash: string): Promise<void>;
  list(tenantId?: string): Promise<KeyRecord[]>;
}

export function toKeyView(r: KeyRecord): ApiKeyListing {
  return {
    id: r.id,
    prefix: r.prefix,
    last4: r.last4,
    tenantId: r.tenantId,
    scopes: r.scopes,
    name: r.name,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    revokedAt: r.revokedAt,
    lastUsedAt: r.lastUsedAt ?? null,
  };
}

/** A bootstrap key's record (system tenant, never expiring): `hash` and display `parts` of the configured or generated key. */
export function bootstrapKeyRecord(k: { id: string; scopes: Scope[]; name: string }, hash: string, parts: { prefix: string; last4: string }, now: Date): KeyRecord {
  return { id: k.id, hash, ...parts, tenantId: SYSTEM_TENANT_ID, scopes: k.scopes, name: k.name, createdAt: now.toISOString(), expiresAt: null, revokedAt: null, bootstrap: true };
}
