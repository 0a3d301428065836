/**
 * SigningKeyStore over a JetStream KV bucket (auth's alone: it holds private keys). The private
 * JWK is stored sealed with the KEK (`privateKey`, a SealedBox bound to the key's kid); the
 * public JWK stays readable. Records written before (`privateJwk` in clear) or without a KEK
 * are read as they are, and sealPlaintext() rewrites them sealed on start.
 */
import type { KV } from '@nats-io/kv';
import type { JWK } from 'jose';
import { type SecretSealer, type StoredSecret } from '../secrets/sealed-box';
import type { SigningKeyRecord, SigningKeyStore } from './signing-keys';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What the bucket holds per key. */
interface StoredSigningKey extends Omit<SigningKeyRecord, 'privateJwk'> {
  privateKey?: StoredSecret;
  /** Written before private keys were sealed. */
  privateJwk?: JWK;
}

const aadOf = (kid: string) => `sb/auth/jwt-signing-key/${kid}`;

export class KvSigningKeyStore implements SigningKeyStore {
  constructor(
    private readonly kv: KV,
    private readonly sealer: SecretSealer,
  ) {}

  async list(): Promise<SigningKeyRecord[]> {
    const out: SigningKeyRecord[] = [];
    for await (const k of await this.kv.keys('sk.*')) {
      const e = await this.kv.get(k);
      if (e && e.operation === 'PUT' && e.length > 0) out.push(this.toRecord(JSON.parse(dec.decode(e.value)) as StoredSigningKey));
    }
    return out;
  }

  async create(record: SigningKeyRecord): Promise<boolean> {
    try {
      await this.kv.create(`sk.${record.epoch}`, enc.encode(JSON.stringify(this.toStored(record))));
      return true;
    } catch {
      return false;
    }
  }

  async delete(epoch: number): Promise<void> {
    await this.kv.purge(`sk.${epoch}`);
  }

  /** Rewrite, sealed with the configured KEK, every key stored in clear. Returns how many. */
  async sealPlaintext(): Promise<number> {
    if (!this.sealer.sealing) return 0;
    let sealed = 0;
    for await (const k of await this.kv.keys('sk.*')) {
      const e = await this.kv.get(k);
      if (!e || e.operation !== 'PUT' || e.length === 0) continue;
      const stored = JSON.parse(dec.decode(e.value)) as StoredSigningKey;
      if (stored.privateKey && this.sealer.isCurrent(stored.privateKey)) continue;
      try {
        await this.kv.update(k, enc.encode(JSON.stringify(this.toStored(this.toRecord(stored)))), e.revision);
        sealed++;
      } catch {
        /* another replica rewrote (or retired) it meanwhile */
      }
    }
    return sealed;
  }

  private toStored(r: SigningKeyRecord): StoredSigningKey {
    const { privateJwk, ...rest } = r;
    return { ...rest, privateKey: this.sealer.wrap(JSON.stringify(privateJwk), aadOf(r.kid)) };
  }

  private toRecord(s: StoredSigningKey): SigningKeyRecord {
    const { privateKey, privateJwk, ...rest } = s;
    if (privateKey) return { ...rest, privateJwk: JSON.parse(this.sealer.unwrap(privateKey, aadOf(s.kid)).toString('utf8')) as JWK };
    if (privateJwk) return { ...rest, privateJwk };
    throw new Error(`signing key ${s.kid} has no private key`);
  }
}
