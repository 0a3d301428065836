/** A KeyStore in memory, for the key handlers' unit tests. */
import type { KeyRecord, KeyStore } from './key-record';

export class MemoryKeyStore implements KeyStore {
  readonly byHash = new Map<string, KeyRecord>();
  private readonly aliases = new Map<string, string>();
  async findByHash(h: string) {
    return this.byHash.get(h);
  }
  async findById(id: string) {
    const aliased = this.aliases.get(id);
    return aliased ? this.byHash.get(aliased) : [...this.byHash.values()].find((r) => r.id === id);
  }
  async alias(id: string, hash: string) {
    this.aliases.set(id, hash);
  }
  async insert(r: KeyRecord) {
    if (this.byHash.has(r.hash)) return false;
    this.byHash.set(r.hash, { ...r });
    return true;
  }
  async update(r: KeyRecord) {
    this.byHash.set(r.hash, { ...r });
  }
  async list(tenantId?: string) {
    return [...this.byHash.values()].filter((r) => !tenantId || r.tenantId === tenantId);
  }
}
