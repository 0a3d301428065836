/**
 * The one place an ioredis client is constructed for a service (RedisClient calls it; tests that
 * need a second connection to the same Redis can too). Two modes, chosen by configuration:
 *
 * - standalone: REDIS_URL names the server;
 * - Sentinel: REDIS_SENTINELS lists Sentinels that know which server is the master of the group
 *   REDIS_SENTINEL_NAME. ioredis asks them on every (re)connect and checks the server it reaches
 *   says `role:master` (a stale answer during a failover is retried, never written to).
 *   RedisClient adds what ioredis lacks for a master replaced while still running
 *   (sentinel-watch.ts, sentinel-views.ts). REDIS_URL then supplies only the master's
 *   credentials, database and TLS (`rediss://`); its host and port are ignored. The Sentinels
 *   themselves are reached without TLS.
 */
import type { RedisConfig, SentinelAddress } from '@sb/config';
import { Redis, type RedisOptions } from 'ioredis';

export interface RedisConnectionOptions {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://` for TLS. */
  url: string;
  /** Sentinel mode when non-empty: where to ask for the master of `sentinelName`. */
  sentinels?: SentinelAddress[];
  /** The master group name the Sentinels monitor (required with `sentinels`). */
  sentinelName?: string;
  /** The Sentinels' own password, if they require one. */
  sentinelPassword?: string;
}

/** The connection settings a service's parsed config (redisConfigShape) describes. */
export function redisConnectionOf(config: RedisConfig): RedisConnectionOptions {
  return {
    url: config.REDIS_URL,
    ...(config.REDIS_SENTINELS ? { sentinels: config.REDIS_SENTINELS, sentinelName: config.REDIS_SENTINEL_NAME } : {}),
    ...(config.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: config.REDIS_SENTINEL_PASSWORD } : {}),
  };
}

export const isSentinelMode = (c: RedisConnectionOptions): boolean => (c.sentinels?.length ?? 0) > 0;

/** `host:port` of a URL, without credentials: for logs and readiness details. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

/** What logs show of a connection: `host:port`, or `sentinel <name> via h1:p1,h2:p2` (never a password). */
export function describeRedisConnection(c: RedisConnectionOptions): string {
  if (!isSentinelMode(c)) return describeRedisUrl(c.url);
  const list = c.sentinels!.map((s) => `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`).join(',');
  return `sentinel ${c.sentinelName} via ${list}`;
}

/** A READONLY reply means this connection reached a demoted master: reconnect (and ask the Sentinels again). */
export function reconnectOnReadonly(err: Error): boolean {
  return err.message.startsWith('READONLY');
}

/**
 * A client for `c` with the caller's tuning (timeouts, retry strategy, lazyConnect...). Throws
 * on settings ioredis would only reject at connect time, so a bad module setup fails at once.
 */
export function createRedisConnection(c: RedisConnectionOptions, tuning: RedisOptions = {}): Redis {
  if (!isSentinelMode(c)) {
    if (c.sentinelName || c.sentinelPassword) throw new Error('Redis: a Sentinel name or password was given without Sentinels');
    return new Redis(c.url, tuning);
  }
  if (!c.sentinelName) throw new Error('Redis: Sentinel mode needs the master group name (REDIS_SENTINEL_NAME)');
  return new Redis(c.url, {
    ...tuning,
    sentinels: c.sentinels!.map((s) => ({ host: s.host, port: s.port })),
    name: c.sentinelName,
    role: 'master',
    ...(c.sentinelPassword ? { sentinelPassword: c.sentinelPassword } : {}),
    // `rediss://`: the master (whatever address the Sentinels name) is reached over TLS.
    ...(c.url.startsWith('rediss://') ? { enableTLSForSentinelMode: true } : {}),
    // Each Sentinel query is bounded like a connect; a silent Sentinel must not stall the failover.
    sentinelCommandTimeout: tuning.connectTimeout ?? 5_000,
  });
}
