import type { KV } from '@nats-io/kv';
import type { TenancyTenant as Tenant } from '@sb/contracts';

export interface TenantStore {
  get(id: string): Promise<Tenant | undefined>;
  /** Insert; false if the id exists. */
  insert(t: Tenant): Promise<boolean>;
  put(t: Tenant): Promise<void>;
  list(): Promise<Tenant[]>;
}

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
  async put(t: Tenant): Promise<void> {
    await this.kv.put(t.id, enc.encode(JSON.stringify(t)));
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
