import type { ApiKeyView, Scope } from '@sb/contracts';

/** Stored per key. The secret itself is never stored; `hash` is its SHA-256. */
export interface KeyRecord {
  id: string;
  hash: string;
  prefix: string;
  last4: string;
  tenantId: string;
  scopes: Scope[];
  name: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  bootstrap?: boolean;
}

export interface KeyStore {
  findByHash(hash: string): Promise<KeyRecord | undefined>;
  findById(id: string): Promise<KeyRecord | undefined>;
  /** Insert a new key; false if the hash is already stored. */
  insert(record: KeyRecord): Promise<boolean>;
  update(record: KeyRecord): Promise<void>;
  list(tenantId?: string): Promise<KeyRecord[]>;
}

export function toKeyView(r: KeyRecord): ApiKeyView {
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
  };
}
