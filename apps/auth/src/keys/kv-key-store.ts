/**
 * KeyStore over a JetStream KV bucket: `k.<stored hash>` → record, `i.<id>` → stored hash (an
 * alias id, such as the current bootstrap key's, points at another record the same way). The
 * stored hash is HMAC(pepper, SHA-256(key)) (api-key.ts). Stores written before that kept
 * `h.<SHA-256(key)>`: upgradeLegacyHashes() moves those records on start and erases the old
 * entries, whose names were digests.
 */
import type { Bucket, KV } from '@nats-io/kv';
import type { KeyHasher } from './api-key';
import type { KeyRecord, KeyStore } from './key-record';

const enc = new TextEncoder();
const dec = new TextDecoder();

export class KvKeyStore implements KeyStore {
  constructor(private readonly kv: KV) {}

  async findByHash(hash: string): Promise<KeyRecord | undefined> {
    return this.read(`k.${hash}`);
  }

  async findById(id: string): Promise<KeyRecord | undefined> {
    const e = await this.kv.get(`i.${id}`);
    if (!e || e.operation !== 'PUT' || e.length === 0) return undefined;
    return this.findByHash(dec.decode(e.value));
  }

  async insert(record: KeyRecord): Promise<boolean> {
    try {
      await this.kv.create(`k.${record.hash}`, enc.encode(JSON.stringify(record)));
    } catch {
      return false;
    }
    await this.kv.put(`i.${record.id}`, enc.encode(record.hash));
    return true;
  }

  /** Also files the record under its id. */
  async update(record: KeyRecord): Promise<void> {
    await this.kv.put(`k.${record.hash}`, enc.encode(JSON.stringify(record)));
    await this.kv.put(`i.${record.id}`, enc.encode(record.hash));
  }

  async alias(id: string, hash: string): Promise<void> {
    await this.kv.put(`i.${id}`, enc.encode(hash));
  }

  async list(tenantId?: string): Promise<KeyRecord[]> {
    const out: KeyRecord[] = [];
    for await (const k of await this.kv.keys('k.*')) {
      const r = await this.read(k);
      if (r && (tenantId === undefined || r.tenantId === tenantId)) out.push(r);
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Set `lastUsedAt` only if the record did not change since it was read (never undoes a revoke or rotation). */
  async touch(id: string, at: string): Promise<void> {
    const i = await this.kv.get(`i.${id}`);
    if (!i || i.operation !== 'PUT' || i.length === 0) return;
    const k = `k.${dec.decode(i.value)}`;
    const e = await this.kv.get(k);
    if (!e || e.operation !== 'PUT' || e.length === 0) return;
    const r = JSON.parse(dec.decode(e.value)) as KeyRecord;
    if (r.revokedAt || r.id !== id) return;
    r.lastUsedAt = at;
    try {
      await this.kv.update(k, enc.encode(JSON.stringify(r)), e.revision);
    } catch {
      /* changed meanwhile (revoked, rotated): that write wins; usage is best effort */
    }
  }

  /**
   * Records stored by SHA-256 (`h.<digest>`, before the pepper): re-filed under their stored
   * hash, then the old entries and their markers erased. Idempotent; returns how many moved.
   */
  async upgradeLegacyHashes(hasher: KeyHasher): Promise<number> {
    let moved = 0;
    for await (const k of await this.kv.keys('h.*')) {
      const legacy = await this.read(k);
      if (!legacy) continue;
      const record: KeyRecord = { ...legacy, hash: hasher.fromDigest(legacy.hash) };
      if (!(await this.insert(record))) await this.kv.put(`i.${record.id}`, enc.encode(record.hash)); // moved by another replica
      moved++;
    }
    // Erase the old entries outright, markers included (a delete or purge marker keeps the name, a digest).
    const bucket = this.kv as Partial<Pick<Bucket, 'purgeBucket' | 'subjectForKey'>>;
    if (moved > 0 && bucket.purgeBucket && bucket.subjectForKey) await bucket.purgeBucket({ filter: bucket.subjectForKey('h.>') });
    return moved;
  }

  private async read(key: string): Promise<KeyRecord | undefined> {
    const e = await this.kv.get(key);
    return e && e.operation === 'PUT' && e.length > 0 ? (JSON.parse(dec.decode(e.value)) as KeyRecord) : undefined;
  }
}
