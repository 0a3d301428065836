/**
 * Where the Redis-using services (gateway, tenancy, metrics-collector) find Redis: one server at
 * REDIS_URL, or, with REDIS_SENTINELS, whichever server the named Sentinel master group currently
 * promotes. zod checks one variable at a time; the rules that span several are in
 * `redisSentinelProblems`, which parseConfig applies to every schema holding these variables.
 */
import { z } from 'zod';

export interface SentinelAddress {
  host: string;
  port: number;
}

/** Sentinel's own default port, for an entry written as a bare host. */
export const DEFAULT_SENTINEL_PORT = 26379;

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$/;

/** `h1:26379, [::1]:26380, h3` → addresses; throws RangeError naming the first bad entry. */
export function parseSentinelList(value: string): SentinelAddress[] {
  const entries = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) throw new RangeError('expected at least one host:port');
  const seen = new Set<string>();
  return entries.map((entry) => {
    const m = HOST_PORT.exec(entry);
    const port = m?.[2] === undefined ? DEFAULT_SENTINEL_PORT : Number(m[2]);
    if (!m || port < 1 || port > 65535) throw new RangeError(`"${entry}" is not host:port`);
    const host = m[1].replace(/^\[(.*)\]$/, '$1');
    const id = `${host}:${port}`;
    if (seen.has(id)) throw new RangeError(`"${entry}" is listed twice`);
    seen.add(id);
    return { host, port };
  });
}

const sentinelList = z.string().transform((v, ctx) => {
  try {
    return parseSentinelList(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `${(e as Error).message} (expected comma-separated host:port of Redis Sentinels)` });
    return z.NEVER;
  }
});

/** Redis's own limits are looser; this keeps the name safe in logs and on a command line. */
const masterName = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected a Sentinel master group name: 1-64 of A-Z a-z 0-9 . _ -');

export const redisSentinelShape = {
  /** Sentinel mode: the Sentinels to ask where the master is (REDIS_URL's host and port are then ignored). */
  REDIS_SENTINELS: sentinelList.optional(),
  /** The master group the Sentinels monitor (`sentinel monitor <name> ...`). */
  REDIS_SENTINEL_NAME: masterName.optional(),
  /** The Sentinels' own password (`requirepass` in sentinel.conf), when they have one. */
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
};

/**
 * The rules between the variables, on the raw (empty = unset) values: Sentinel mode needs both
 * the Sentinels and the group name, and a Sentinel password means nothing without Sentinels.
 */
export function redisSentinelProblems(env: Record<string, string | undefined>): string[] {
  const has = (k: string) => env[k] !== undefined && env[k] !== '';
  const problems: string[] = [];
  if (has('REDIS_SENTINELS') && !has('REDIS_SENTINEL_NAME')) {
    problems.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the master group name the Sentinels monitor)');
  }
  if (!has('REDIS_SENTINELS') && has('REDIS_SENTINEL_NAME')) {
    problems.push('REDIS_SENTINELS: required with REDIS_SENTINEL_NAME (comma-separated host:port of the Sentinels)');
  }
  if (!has('REDIS_SENTINELS') && has('REDIS_SENTINEL_PASSWORD')) {
    problems.push('REDIS_SENTINEL_PASSWORD: only meaningful with REDIS_SENTINELS');
  }
  return problems;
}
