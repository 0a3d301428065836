/**
 * What each Sentinel currently says the master is, and which of those views is the newest.
 *
 * After a failover the Sentinels agree on the new master within a moment, not at once: the leader
 * announces `+switch-master` first, the others learn it from its hello messages a little later.
 * A client that reconnects in between may ask one that has not heard yet and be sent to the old
 * master; when that one still runs (a graceful failover, a partition) it accepts writes that are
 * thrown away once Sentinel demotes it, about ten seconds later. Sentinels order their views by
 * config epoch, the newest being the current configuration, so RedisClient checks after every
 * connect that no newer view names another server (and reconnects if one does).
 */
import { Redis } from 'ioredis';
import type { RedisConnectionOptions } from './redis-connection';

export interface SentinelView {
  /** `host:port` (IPv6 in brackets), as the Sentinel reports it. */
  address: string;
  /** The Sentinel's config epoch for the group: a failover increments it. */
  epoch: number;
}

export const formatAddress = (host: string, port: number | string): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

/**
 * Whether a client connected to `connected` is on a replaced master: an older view names it and
 * the newest names another server. Views that never named it (e.g. Sentinels that report host
 * names while the socket knows an IP) are no evidence either way, so they never cause a reconnect.
 */
export function onReplacedMaster(connected: string, views: SentinelView[]): boolean {
  if (views.length === 0) return false;
  const newest = Math.max(...views.map((v) => v.epoch));
  const current = views.filter((v) => v.epoch === newest).map((v) => v.address);
  if (current.includes(connected)) return false;
  return views.some((v) => v.epoch < newest && v.address === connected);
}

/** `SENTINEL MASTER <name>` on every Sentinel, in parallel, each bounded by `timeoutMs`; silent ones are left out. */
export async function sentinelViews(c: RedisConnectionOptions, timeoutMs: number): Promise<SentinelView[]> {
  const views = await Promise.all(
    (c.sentinels ?? []).map(async ({ host, port }) => {
      const s = new Redis({
        host,
        port,
        password: c.sentinelPassword,
        lazyConnect: true,
        connectTimeout: timeoutMs,
        commandTimeout: timeoutMs,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
      });
      s.on('error', () => undefined);
      try {
        await s.connect();
        const flat = (await s.call('SENTINEL', 'MASTER', c.sentinelName!)) as string[];
        const m = new Map<string, string>();
        for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i], flat[i + 1]);
        return { address: formatAddress(m.get('ip') ?? '', m.get('port') ?? ''), epoch: Number(m.get('config-epoch') ?? 0) };
      } catch {
        return undefined;
      } finally {
        s.disconnect();
      }
    }),
  );
  return views.filter((v): v is SentinelView => v !== undefined);
}
