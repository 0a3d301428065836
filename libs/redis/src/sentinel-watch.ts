/**
 * Sentinel mode: hear every `+switch-master` the Sentinels announce, so a client still connected
 * to a master that was replaced while it kept running (SENTINEL FAILOVER, a partition) leaves it
 * at once instead of writing to it until Sentinel demotes it, about ten seconds later, when those
 * writes are thrown away.
 *
 * Not ioredis's own `failoverDetector`: that one reconnects on any announcement, including the
 * late ones of Sentinels that learn of a switch after the client has already moved (a needless
 * second outage), and when one arrives while a reconnect is under way it aborts it and leaves the
 * client ended for good. Here the caller is told the new address and decides.
 */
import { Redis } from 'ioredis';
import { type RedisConnectionOptions } from './redis-connection';
import { formatAddress } from './sentinel-views';

const CHANNEL = '+switch-master';

export class SentinelSwitchWatch {
  private readonly subscribers: Redis[];

  /**
   * @param onSwitch called with the group's new master (`host:port`) on each announcement; the
   *   Sentinels each announce the same switch, so expect several calls per failover.
   */
  constructor(
    conn: RedisConnectionOptions,
    onSwitch: (to: string) => void,
    opts: { reconnectDelay: (attempt: number) => number; onError?: (err: Error) => void },
  ) {
    this.subscribers = (conn.sentinels ?? []).map(({ host, port }) => {
      const s = new Redis({
        host,
        port,
        password: conn.sentinelPassword,
        lazyConnect: true,
        connectionName: 'sentinel-switch-watch',
        // A Sentinel that is down is tried again, forever: the others cover for it meanwhile.
        retryStrategy: (attempt) => opts.reconnectDelay(attempt),
        maxRetriesPerRequest: null,
      });
      s.on('error', (err: Error) => opts.onError?.(err));
      s.on('message', (channel: string, text: string) => {
        if (channel !== CHANNEL) return;
        const [group, , , toHost, toPort] = text.split(' ');
        if (group === conn.sentinelName && toHost && toPort) onSwitch(formatAddress(toHost, toPort));
      });
      return s;
    });
  }

  /**
   * Subscribe on every Sentinel. The subscription waits in the offline queue while a Sentinel is
   * unreachable (and is renewed after each reconnect), so the promise resolves once every Sentinel
   * has answered, which may be never: callers need not wait for it.
   */
  start(): Promise<void> {
    return Promise.all(this.subscribers.map((s) => s.subscribe(CHANNEL).catch(() => undefined))).then(() => undefined);
  }

  stop(): void {
    for (const s of this.subscribers) s.disconnect();
  }
}
