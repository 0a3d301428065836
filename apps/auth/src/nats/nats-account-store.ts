/**
 * What auth remembers about NATS (KV `<KEYS>_nats`): each tenant's account (its public key and
 * revocations; the JWT is re-signed from this), the fixed accounts' revocations, and which NATS
 * users every API key was given (so revoking the key revokes them).
 *
 *   acct.t.<tenantId>   TenantAccountRecord
 *   acct.a.<account>    { tenantId }          (the gateway's account → tenant lookup)
 *   acct.fixed.<name>   FixedAccountRecord    (agents, ops)
 *   users.<keyId>       { users: MintedUserRecord[] }  (one read when the key is revoked)
 */
import type { KV } from '@nats-io/kv';

/** A revoked user: revoke JWTs issued up to `at` (seconds); forget the entry after `exp`, when the JWT is dead anyway. */
export interface RevocationEntry {
  at: number;
  exp: number;
}
export interface TenantAccountRecord {
  account: string;
  name: string;
  tenantId: string;
  revocations: Record<string, RevocationEntry>;
}
export type FixedAccount = 'agents' | 'ops';
export interface FixedAccountRecord {
  revocations: Record<string, RevocationEntry>;
}
export interface MintedUserRecord {
  user: string;
  /** `agents`, `ops` or `t:<tenantId>`. */
  account: string;
  exp: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const json = (v: unknown) => enc.encode(JSON.stringify(v));

export interface Versioned<T> {
  value: T;
  revision: number;
}

export class NatsAccountStore {
  constructor(private readonly kv: KV) {}

  private async read<T>(key: string): Promise<Versioned<T> | undefined> {
    const e = await this.kv.get(key);
    if (!e || e.operation !== 'PUT' || e.length === 0) return undefined;
    return { value: JSON.parse(dec.decode(e.value)) as T, revision: e.revision };
  }

  tenant(tenantId: string): Promise<Versioned<TenantAccountRecord> | undefined> {
    return this.read(`acct.t.${tenantId}`);
  }
  /** Stores a new tenant account; false when another replica stored one first. */
  async createTenant(r: TenantAccountRecord): Promise<boolean> {
    try {
      await this.kv.create(`acct.t.${r.tenantId}`, json(r));
    } catch {
      return false;
    }
    await this.kv.put(`acct.a.${r.account}`, json({ tenantId: r.tenantId }));
    return true;
  }
  async updateTenant(r: TenantAccountRecord, revision: number): Promise<void> {
    await this.kv.update(`acct.t.${r.tenantId}`, json(r), revision);
  }
  async ownerOf(account: string): Promise<string | undefined> {
    return (await this.read<{ tenantId: string }>(`acct.a.${account}`))?.value.tenantId;
  }
  async tenants(): Promise<TenantAccountRecord[]> {
    const out: TenantAccountRecord[] = [];
    for await (const k of await this.kv.keys('acct.t.>')) {
      const r = await this.read<TenantAccountRecord>(k);
      if (r) out.push(r.value);
    }
    return out;
  }

  fixed(name: FixedAccount): Promise<Versioned<FixedAccountRecord> | undefined> {
    return this.read(`acct.fixed.${name}`);
  }
  /** Compare-and-set (revision 0: create). */
  async putFixed(name: FixedAccount, r: FixedAccountRecord, revision: number): Promise<void> {
    if (revision === 0) await this.kv.create(`acct.fixed.${name}`, json(r));
    else await this.kv.update(`acct.fixed.${name}`, json(r), revision);
  }

  /** Adds a user to the key's list (compare-and-set; users whose credentials expired are dropped). */
  async recordUser(keyId: string, r: MintedUserRecord, nowS: number): Promise<void> {
    const key = `users.${keyId}`;
    for (let attempt = 0; ; attempt++) {
      const cur = await this.read<{ users: MintedUserRecord[] }>(key);
      const users = [...(cur?.value.users ?? []).filter((u) => u.exp > nowS), r];
      try {
        if (cur) await this.kv.update(key, json({ users }), cur.revision);
        else await this.kv.create(key, json({ users }));
        return;
      } catch (err) {
        if (attempt >= 10) throw err;
      }
    }
  }
  async usersOf(keyId: string): Promise<MintedUserRecord[]> {
    return (await this.read<{ users: MintedUserRecord[] }>(`users.${keyId}`))?.value.users ?? [];
  }
  async forgetUsers(keyId: string): Promise<void> {
    await this.kv.delete(`users.${keyId}`);
  }
}
