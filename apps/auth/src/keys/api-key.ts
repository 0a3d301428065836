/**
 * API key material. A key is `sbk_` + 32 base62 characters of entropy (190 bits) + a
 * 6-character CRC-32 checksum, so typos are rejected without a lookup and secret scanners can
 * recognise leaked keys by shape. Only the SHA-256 hash is ever stored.
 */
import { createHash, randomBytes } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const KEY_TYPE_PREFIX = 'sbk_';
const BODY_LENGTH = 32;
const CHECKSUM_LENGTH = 6;

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += BASE62[b % 62]; // 248 = 4*62: no modulo bias
    }
  }
  return out;
}

function crc32(s: string): number {
  let c = ~0;
  for (let i = 0; i < s.length; i++) {
    c ^= s.charCodeAt(i);
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function toBase62(n: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export function generateApiKey(): string {
  const body = randomBase62(BODY_LENGTH);
  return `${KEY_TYPE_PREFIX}${body}${toBase62(crc32(body), CHECKSUM_LENGTH)}`;
}

/** True for a well-formed `sbk_` key; false for a typo. Keys of other shapes (a configured bootstrap key) are not checked. */
export function hasValidChecksum(key: string): boolean {
  if (!key.startsWith(KEY_TYPE_PREFIX)) return true;
  const rest = key.slice(KEY_TYPE_PREFIX.length);
  if (rest.length !== BODY_LENGTH + CHECKSUM_LENGTH || /[^0-9A-Za-z]/.test(rest)) return false;
  const body = rest.slice(0, BODY_LENGTH);
  return toBase62(crc32(body), CHECKSUM_LENGTH) === rest.slice(BODY_LENGTH);
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** What a listing may show: the type prefix plus a few characters, and the last four. */
export function displayParts(key: string): { prefix: string; last4: string } {
  return { prefix: key.slice(0, KEY_TYPE_PREFIX.length + 4), last4: key.slice(-4) };
}
