/**
 * The API-key pepper: 32 random bytes made on the first start, kept in the keys bucket under
 * `pepper`, sealed with the KEK (unsealed only when none is configured: development). Every
 * replica reads the same one; the first start with a KEK seals one written without.
 */
import { randomBytes } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import { type SecretSealer, type StoredSecret } from '../secrets/sealed-box';

const KEY = 'pepper';
const AAD = 'sb/auth/api-key-pepper';
const enc = new TextEncoder();
const dec = new TextDecoder();

export async function loadPepper(kv: KV, sealer: SecretSealer): Promise<Buffer> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const e = await kv.get(KEY);
    if (!e || e.operation !== 'PUT' || e.length === 0) {
      const pepper = randomBytes(32);
      try {
        await kv.create(KEY, enc.encode(JSON.stringify(sealer.wrap(pepper, AAD))));
        return pepper;
      } catch {
        continue; // another replica made it first: read that one
      }
    }
    const stored = JSON.parse(dec.decode(e.value)) as StoredSecret;
    const pepper = sealer.unwrap(stored, AAD);
    if (sealer.isCurrent(stored)) return pepper;
    try {
      await kv.update(KEY, enc.encode(JSON.stringify(sealer.wrap(pepper, AAD))), e.revision);
    } catch {
      /* another replica sealed it meanwhile: the same pepper */
    }
    return pepper;
  }
  throw new Error('could not read or create the API-key pepper');
}
