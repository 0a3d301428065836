import { setTimeout as delay } from 'node:timers/promises';
import type { KV } from '@nats-io/kv';
import type { TenancyTenant as Tenant } from '@sb/contracts';
import { isWrongRevision } from '@sb/tasks';

export interface TenantStore {
  get(id: string): Promise<Tenant | undefined>;
  /** Insert; false if the id exists. */
  insert(t: Tenant): Promise<boolean>;
  /**
   * Read-modify-write under compare-and-set, retried on a concurrent write, so two changes at
   * once both land. `change` may throw to refuse; undefined when the tenant does not exist.
   */
  update(id: string, change: (t: Tenant) => Tenant): Promise<Tenant | undefined>;
  list(): Promise<Tenant[]>;
}

const MAX_CAS_ATTEMPTS = 20;

const enc = new TextEncoder();
const dec = new TextDecoder();

export class KvTenantStore implements TenantStore {
  constructor(private readonly kv: KV) {}
  async get(id: string): Promise<Tenant | undefined> {
    const e = await this.kv.get(id);
    return e && e.operation === 'PUT' && e.length > 0 ? (JSON.parse(dec.decode(e.value)) as Tenant) : undefined;
  }
  async insert(t: Tenant): Promise<boolean> {
    try {
      await this.kv.create(t.id, enc.encode(JSON.stringify(t)));
      return true;
    } catch {
      return false;
    }
  }
  async update(id: string, change: (t: Tenant) => Tenant): Promise<Tenant | undefined> {
    for (let i = 0; i < MAX_CAS_ATTEMPTS; i++) {
      const e = await this.kv.get(id);
      if (!e || e.operation !== 'PUT' || e.length === 0) return undefined;
      const next = change(JSON.parse(dec.decode(e.value)) as Tenant);
      try {
        await this.kv.update(id, enc.encode(JSON.stringify(next)), e.revision);
        return next;
      } catch (err) {
        if (!isWrongRevision(err)) throw err;
        await delay(Math.random() * 5 * (i + 1)); // jittered backoff so contending writers spread out
      }
    }
    throw new Error(`tenant ${id}: too many concurrent writers`);
  }
  async list(): Promise<Tenant[]> {
    const out: Tenant[] = [];
    for await (const k of await this.kv.keys()) {
      const t = await this.get(k);
      if (t) out.push(t);
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
}
