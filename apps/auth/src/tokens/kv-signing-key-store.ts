/** SigningKeyStore over a JetStream KV bucket (internal to auth: it holds private keys). */
import type { KV } from '@nats-io/kv';
import type { SigningKeyRecord, SigningKeyStore } from './signing-keys';

const enc = new TextEncoder();
const dec = new TextDecoder();

export class KvSigningKeyStore implements SigningKeyStore {
  constructor(private readonly kv: KV) {}

  async list(): Promise<SigningKeyRecord[]> {
    const out: SigningKeyRecord[] = [];
    for await (const k of await this.kv.keys('sk.*')) {
      const e = await this.kv.get(k);
      if (e && e.operation === 'PUT' && e.length > 0) out.push(JSON.parse(dec.decode(e.value)) as SigningKeyRecord);
    }
    return out;
  }

  async create(record: SigningKeyRecord): Promise<boolean> {
    try {
      await this.kv.create(`sk.${record.epoch}`, enc.encode(JSON.stringify(record)));
      return true;
    } catch {
      return false;
    }
  }

  async delete(epoch: number): Promise<void> {
    await this.kv.purge(`sk.${epoch}`);
  }
}
