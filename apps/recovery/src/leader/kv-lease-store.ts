/** The leader lease record in a JetStream KV bucket (one key, written only with CAS). */
import type { KV } from '@nats-io/kv';
import type { LeaseRecord, LeaseStore } from './leader-lease';

export const LEASE_KEY = 'leader';

export class KvLeaseStore implements LeaseStore {
  constructor(
    private readonly kv: KV,
    private readonly key = LEASE_KEY,
  ) {}

  async get(): Promise<{ record: LeaseRecord; revision: number } | null> {
    const e = await this.kv.get(this.key);
    if (!e || e.operation !== 'PUT') return null;
    return { record: e.json<LeaseRecord>(), revision: e.revision };
  }

  create(record: LeaseRecord): Promise<number> {
    return this.kv.create(this.key, JSON.stringify(record));
  }

  update(record: LeaseRecord, revision: number): Promise<number> {
    return this.kv.update(this.key, JSON.stringify(record), revision);
  }
}
