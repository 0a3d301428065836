/** Sortable, URL- and subject-safe ids: 10 chars of time (Crockford base32, ms) + 16 random. */
import { randomBytesPooled as randomBytes } from '@sb/messaging';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

function base32(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}

export function timeSortableId(prefix: string, now = Date.now()): string {
  let t = now;
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `${prefix}${time}${base32(randomBytes(16))}`;
}

export const newTaskId = (now?: number) => timeSortableId('t', now);
