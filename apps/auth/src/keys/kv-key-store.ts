/** KeyStore over a JetStream KV bucket: `h.<sha256>` → record, `i.<id>` → hash. */
import type { KV } from '@nats-io/kv';
import type { KeyRecord, KeyStore } from './key-record';

const enc = new TextEncoder();
const dec = new TextDecoder();

export class KvKeyStore implements KeyStore {
  constructor(private readonly kv: KV) {}

  async findByHash(hash: string): Promise<KeyRecord | undefined> {
    const e = await this.kv.get(`h.${hash}`);
    return e && e.operation === 'PUT' && e.length > 0 ? (JSON.parse(dec.decode(e.value)) as KeyRecord) : undefined;
  }

  async findById(id: string): Promise<KeyRecord | undefined> {
    const e = await this.kv.get(`i.${id}`);
    if (!e || e.operation !== 'PUT' || e.length === 0) return undefined;
    return this.findByHash(dec.decode(e.value));
  }

  async insert(record: KeyRecord): Promise<boolean> {
    try {
      await this.kv.create(`h.${record.hash}`, enc.encode(JSON.stringify(record)));
    } catch {
      return false;
    }
    await this.kv.put(`i.${record.id}`, enc.encode(record.hash));
    return true;
  }

  /** Also files the record under its id: a replaced bootstrap key is kept under an id of its own. */
  async update(record: KeyRecord): Promise<void> {
    await this.kv.put(`h.${record.hash}`, enc.encode(JSON.stringify(record)));
    await this.kv.put(`i.${record.id}`, enc.encode(record.hash));
  }

  async list(tenantId?: string): Promise<KeyRecord[]> {
    const out: KeyRecord[] = [];
    for await (const k of await this.kv.keys('h.*')) {
      const r = await this.findByHash(k.slice(2));
      if (r && (tenantId === undefined || r.tenantId === tenantId)) out.push(r);
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Set `lastUsedAt` only if the record did not change since it was read (never undoes a revoke or rotation). */
  async touch(id: string, at: string): Promise<void> {
    const i = await this.kv.get(`i.${id}`);
    if (!i || i.operation !== 'PUT' || i.length === 0) return;
    const k = `h.${dec.decode(i.value)}`;
    const e = await this.kv.get(k);
    if (!e || e.operation !== 'PUT' || e.length === 0) return;
    const r = JSON.parse(dec.decode(e.value)) as KeyRecord;
    if (r.revokedAt) return;
    r.lastUsedAt = at;
    try {
      await this.kv.update(k, enc.encode(JSON.stringify(r)), e.revision);
    } catch {
      /* changed meanwhile (revoked, rotated): that write wins; usage is best effort */
    }
  }
}
