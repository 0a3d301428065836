/**
 * A poison task's fingerprint: a stable hash of capability + canonical input + the final
 * error code, so the same failing input is recognised whichever tenant, task id or key order
 * it came with. Canonical JSON: object keys sorted (recursively), no whitespace, `-0` as `0`;
 * array order matters; values JSON cannot carry (undefined in objects) are dropped as
 * JSON.stringify drops them.
 */
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number') return Object.is(value, -0) || !Number.isFinite(value) ? (Number.isFinite(value) ? '0' : 'null') : JSON.stringify(value);
    return value === undefined ? 'null' : JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const keys = Object.keys(value as Record<string, unknown>)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

export function fingerprint(capability: string, input: unknown, errorCode: string | null | undefined): string {
  return createHash('sha256')
    .update(capability)
    .update('\n')
    .update(canonicalJson(input))
    .update('\n')
    .update(errorCode ?? '')
    .digest('hex')
    .slice(0, 32);
}
