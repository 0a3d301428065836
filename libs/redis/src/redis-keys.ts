/**
 * Key building for everything Switchboard keeps in Redis: `<prefix>:<part>:<part>...`.
 * Parts are validated so a tenant id or API-key prefix can never smuggle whitespace or
 * control characters into a key (which would break `redis-cli`, KEYS/SCAN patterns and logs).
 */

/** What key-owning helpers (rate limiter, quotas, heartbeats) need: a client and a key builder. */
export interface RedisKeyspace<C = unknown> {
  readonly client: C;
  key(...parts: Array<string | number>): string;
}

const FORBIDDEN = /[\s\x00-\x1f\x7f]/;

/** Normalises `sb` / `sb:` to `sb:`; rejects empty or whitespace-bearing prefixes. */
export function normalizeKeyPrefix(prefix: string): string {
  if (prefix === '' || FORBIDDEN.test(prefix)) {
    throw new RangeError(`Invalid Redis key prefix ${JSON.stringify(prefix)}: must be non-empty with no whitespace or control characters`);
  }
  return prefix.endsWith(':') ? prefix : `${prefix}:`;
}

/** Returns `key(...parts)` that yields `<prefix>:a:b:c`. Throws RangeError on an empty or invalid part. */
export function createKeyBuilder(prefix: string): (...parts: Array<string | number>) => string {
  const normalized = normalizeKeyPrefix(prefix);
  return (...parts) => {
    if (parts.length === 0) throw new RangeError('A Redis key needs at least one part');
    for (const part of parts) {
      if (typeof part === 'number') {
        if (!Number.isFinite(part)) throw new RangeError(`Invalid Redis key part ${part}`);
        continue;
      }
      if (typeof part !== 'string' || part === '' || FORBIDDEN.test(part)) {
        throw new RangeError(`Invalid Redis key part ${JSON.stringify(part)}: must be a non-empty string with no whitespace or control characters`);
      }
    }
    return normalized + parts.join(':');
  };
}
