// Unique names so suites can share one NATS and one Redis and run in parallel.
import { randomInt } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `length` random lowercase alphanumerics. */
export function randomToken(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/**
 * A fresh subject prefix such as `tq3k9x0a1zb`: a valid NATS subject token, and
 * upper-cased (`TQ3K9X0A1ZB`) a valid stream name. Use one per test or suite:
 * subjects `${p}.tasks.>`, streams `${p.toUpperCase()}_TASKS`, buckets `${p}_records`.
 */
export function uniquePrefix(): string {
  return `t${randomToken(10)}`;
}

/** `base` plus a random suffix, safe as a NATS token, stream, bucket or consumer name. */
export function uniqueName(base: string): string {
  const safe = base.replace(/[^A-Za-z0-9_-]/g, '_') || 'x';
  return `${safe}_${randomToken(8)}`;
}

/** A Redis key prefix such as `test:tq3k9x0a1zb:`; pass it to cleanupRedisKeys() afterwards. */
export function redisKeyPrefix(): string {
  return `test:${uniquePrefix()}:`;
}
