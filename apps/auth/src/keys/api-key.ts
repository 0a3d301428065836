/**
 * API key material. The format (`sbk_…` with a checksum) is the contract's (api-key-format.ts).
 * What auth receives of a key is its SHA-256, the digest (the edges compute it: the key never
 * crosses the bus); what it stores is HMAC-SHA256(pepper, digest). The pepper is auth's own
 * secret, sealed at rest (key-pepper.ts): neither a bus listener, who may see a digest, nor a
 * copy of the key store can derive a stored value, or present one.
 */
import { createHash, createHmac } from 'node:crypto';
import { apiKeyDisplayParts, type MintedKey } from '@sb/contracts';

export { apiKeyDisplayParts as displayParts, generateApiKey } from '@sb/contracts';

/** SHA-256 of the key, hex: what an edge sends in its place (the same as libs/messaging's apiKeyDigest). */
export function keyDigest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** What an edge sends auth of a key it minted (tests and the bootstrap path build it the same way). */
export function mintedOf(key: string): MintedKey {
  return { keyDigest: keyDigest(key), ...apiKeyDisplayParts(key) };
}

/** Turns a key's digest into the value stored and looked up (the record's `hash`). */
export class KeyHasher {
  constructor(private readonly pepper: Buffer) {
    if (pepper.length < 32) throw new Error('the API-key pepper is at least 32 bytes');
  }

  fromDigest(digest: string): string {
    return createHmac('sha256', this.pepper).update(digest, 'utf8').digest('hex');
  }

  fromKey(key: string): string {
    return this.fromDigest(keyDigest(key));
  }
}
