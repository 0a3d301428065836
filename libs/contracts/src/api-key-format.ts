/**
 * The one format of every API key, generated or configured (the bootstrap keys): `sbk_` + 32
 * base62 characters of entropy (190 bits) + a 6-character CRC-32 checksum of them. The checksum
 * lets an edge refuse a typo without asking auth, and secret scanners recognise a leaked key by
 * its shape. Pure (Web Crypto's `getRandomValues` is a global), so auth, the edges, the launcher
 * and the tests share it.
 */
export const API_KEY_PREFIX = 'sbk_';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
export const API_KEY_LENGTH = API_KEY_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH;
/** For error messages and docs. */
export const API_KEY_FORMAT = `${API_KEY_PREFIX} + ${BODY_LENGTH} base62 characters + a ${CHECKSUM_LENGTH}-character checksum (${API_KEY_LENGTH} in all)`;

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
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

/** The key with this body (32 base62 characters): prefix and checksum added. */
export function formatApiKey(body: string): string {
  if (body.length !== BODY_LENGTH || /[^0-9A-Za-z]/.test(body)) throw new Error(`an API key body is ${BODY_LENGTH} base62 characters`);
  return `${API_KEY_PREFIX}${body}${toBase62(crc32(body), CHECKSUM_LENGTH)}`;
}

export function generateApiKey(): string {
  return formatApiKey(randomBase62(BODY_LENGTH));
}

/** True for a key of the format with a valid checksum; false for anything else (a typo, a token, garbage). */
export function isWellFormedApiKey(key: string): boolean {
  if (key.length !== API_KEY_LENGTH || !key.startsWith(API_KEY_PREFIX)) return false;
  const rest = key.slice(API_KEY_PREFIX.length);
  if (/[^0-9A-Za-z]/.test(rest)) return false;
  const body = rest.slice(0, BODY_LENGTH);
  return toBase62(crc32(body), CHECKSUM_LENGTH) === rest.slice(BODY_LENGTH);
}

/** What a listing may show of a key: the type prefix plus four characters, and the last four. */
export function apiKeyDisplayParts(key: string): { prefix: string; last4: string } {
  return { prefix: key.slice(0, API_KEY_PREFIX.length + 4), last4: key.slice(-4) };
}
