/**
 * One ioredis connection per service. Connects at module init (bounded wait, so a wrong URL
 * stops startup with a clear message), registers a readiness probe that does a real PING, and
 * QUITs on shutdown so pending replies are flushed.
 *
 * Commands fail fast while Redis is unreachable (`enableOfflineQueue: false`,
 * `maxRetriesPerRequest: 1`, `commandTimeout`): Redis holds hot, short-lived state only, so a
 * caller is better served by an immediate error it can map to 503 (or a fail-open decision) than
 * by a request parked until Redis returns. Reconnection runs in the background with capped,
 * jittered backoff, forever; connection state changes are logged once per transition, not per
 * retry.
 *
 * With Sentinels configured (redis-connection.ts) every reconnect asks them for the current
 * master, so a failover is one more outage of this kind: commands fail fast until the promoted
 * replica answers, then the same client carries on. When the old master is still running (a
 * graceful failover, a partition) the client leaves it on the Sentinels' announcement
 * (sentinel-watch.ts) and after any connect that a newer Sentinel view contradicts
 * (sentinel-views.ts). Readiness and the logs name the master actually reached.
 */
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type AppLogger, LOGGER, ReadinessRegistry } from '@sb/observability';
import type { Redis } from 'ioredis';
import {
  createRedisConnection,
  describeRedisConnection,
  isSentinelMode,
  reconnectOnReadonly,
  type RedisConnectionOptions,
} from './redis-connection';
import { createKeyBuilder, normalizeKeyPrefix, type RedisKeyspace } from './redis-keys';
import { formatAddress, onReplacedMaster, sentinelViews } from './sentinel-views';
import { SentinelSwitchWatch } from './sentinel-watch';

/** Where Redis is (`url`, or Sentinels: see RedisConnectionOptions) and how this service uses it. */
export interface RedisModuleOptions extends RedisConnectionOptions {
  /** Prefix for every key this service writes, e.g. `sb` or `sb:` → keys look like `sb:rl:...`. */
  keyPrefix: string;
  /** Shown as the connection name in `CLIENT LIST`. */
  service: string;
  /** How long startup waits for the first connection before failing. Default 10 000 ms. */
  startupTimeoutMs?: number;
  /** A command without a reply after this long is rejected. Default 2 000 ms. */
  commandTimeoutMs?: number;
  /** Upper bound of the reconnect backoff. Default 2 000 ms. */
  maxReconnectDelayMs?: number;
}
export const REDIS_OPTIONS = Symbol('REDIS_OPTIONS');

/** Exponential backoff from 50 ms, capped, plus up to 100 ms of jitter so replicas don't reconnect in lockstep. */
export function reconnectDelay(attempt: number, capMs: number): number {
  const exp = 50 * 2 ** Math.min(Math.max(attempt - 1, 0), 16);
  return Math.min(exp, capMs) + Math.floor(Math.random() * 100);
}

/** Resolves true on `event`, false after `ms`; never leaves a timer or listener behind. */
function eventWithin(emitter: Redis, event: string, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const onEvent = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      emitter.off(event, onEvent);
      resolve(false);
    }, ms);
    emitter.once(event, onEvent);
  });
}

@Injectable()
export class RedisClient implements RedisKeyspace<Redis>, OnModuleInit, OnApplicationShutdown {
  /** The ioredis instance. Exists from construction; connected once the module has initialised. */
  readonly client: Redis;
  /** Normalised prefix, always ending in `:`. */
  readonly keyPrefix: string;
  /** `host:port`, or `sentinel <name> via <sentinels>` (no credentials). */
  readonly server: string;
  private readonly buildKey: (...parts: Array<string | number>) => string;
  private up = false;
  private everUp = false;
  private downSince = 0;
  private errorLogged = false;
  /** Set on shutdown or a failed startup: from then on the client stays closed. */
  private shuttingDown = false;
  private readonly reconnectCapMs: number;
  private revival?: NodeJS.Timeout;
  /** Sentinel mode: the Sentinels' `+switch-master` announcements. */
  private readonly switchWatch?: SentinelSwitchWatch;

  constructor(
    @Inject(REDIS_OPTIONS) readonly options: RedisModuleOptions,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
  ) {
    this.keyPrefix = normalizeKeyPrefix(options.keyPrefix);
    this.buildKey = createKeyBuilder(this.keyPrefix);
    this.server = describeRedisConnection(options);
    const cap = (this.reconnectCapMs = options.maxReconnectDelayMs ?? 2_000);
    this.client = createRedisConnection(options, {
      lazyConnect: true,
      connectionName: options.service,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      commandTimeout: options.commandTimeoutMs ?? 2_000,
      connectTimeout: 5_000,
      // How long disconnect() waits for a graceful socket close before destroying it. ioredis arms
      // this timer even when the socket is already gone (e.g. while reconnecting), which would
      // keep the process alive for its full default of 2 s after a failed startup.
      disconnectTimeout: 500,
      retryStrategy: (times) => reconnectDelay(times, cap),
      reconnectOnError: reconnectOnReadonly,
      // Commands issued in one event-loop turn go out in one write (the gateway's submit gate
      // and tenancy's usage records run once per task: one socket write per turn, not per task).
      enableAutoPipelining: true,
    });
    this.watchState();
    if (isSentinelMode(options)) {
      this.switchWatch = new SentinelSwitchWatch(options, (to) => this.onSwitch(to), {
        reconnectDelay: (attempt) => reconnectDelay(attempt, 5_000),
        onError: (err) => this.logger.debug({ err, server: this.server }, 'Sentinel watch error'),
      });
    }
  }

  /** `<prefix>:a:b:c`; parts must be non-empty and free of whitespace/control characters. */
  key(...parts: Array<string | number>): string {
    return this.buildKey(...parts);
  }

  async onModuleInit(): Promise<void> {
    await this.connectWithin(this.options.startupTimeoutMs ?? 10_000);
    void this.switchWatch?.start();
    this.readiness.register({
      name: 'redis',
      check: async () => {
        if (this.client.status !== 'ready') throw new Error(`Redis connection is ${this.client.status}`);
        const started = process.hrtime.bigint();
        await this.client.ping();
        const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
        return { latencyMs: Number(latencyMs.toFixed(3)), server: this.server, ...this.masterDetail() };
      },
    });
  }

  /** Wait for the first `ready`, letting the retry strategy absorb a Redis that is still starting. */
  private async connectWithin(timeoutMs: number): Promise<void> {
    let lastError: unknown;
    const onError = (err: unknown) => {
      lastError = err;
    };
    this.client.on('error', onError);
    try {
      const ready = eventWithin(this.client, 'ready', timeoutMs);
      // A rejected first attempt is not final: the retry strategy keeps trying until the deadline.
      this.client.connect().catch((err: unknown) => {
        lastError = err;
      });
      if (!(await ready)) {
        this.shuttingDown = true;
        this.switchWatch?.stop();
        this.client.disconnect();
        const reason = lastError instanceof Error ? lastError.message : 'no reply';
        throw new Error(`Cannot connect to Redis at ${this.server} within ${timeoutMs} ms: ${reason}`, { cause: lastError });
      }
    } finally {
      this.client.off('error', onError);
    }
  }

  /** Sentinel mode: `host:port` of the master this connection reached (the socket's peer), if connected. */
  connectedMaster(): string | undefined {
    if (!isSentinelMode(this.options)) return undefined;
    const stream = (this.client as unknown as { stream?: { remoteAddress?: string; remotePort?: number } }).stream;
    if (!stream?.remoteAddress || !stream.remotePort) return undefined;
    return formatAddress(stream.remoteAddress, stream.remotePort);
  }

  /** Sentinel mode: the group moved to `to`; a client still on another server (the old master, alive) reconnects. */
  private onSwitch(to: string): void {
    const at = this.connectedMaster();
    if (this.shuttingDown || this.client.status !== 'ready' || !at || at === to) return;
    this.logger.warn({ server: this.server, master: at, to }, 'the Sentinels switched the master; reconnecting');
    this.client.disconnect(true);
  }

  /** Sentinel mode, after each connect: leave a master that a newer Sentinel view has replaced (sentinel-views.ts). */
  private async leaveReplacedMaster(): Promise<void> {
    const connected = this.connectedMaster();
    if (!connected) return;
    const views = await sentinelViews(this.options, 1_000);
    if (this.shuttingDown || this.connectedMaster() !== connected || !onReplacedMaster(connected, views)) return;
    this.logger.warn({ server: this.server, master: connected }, 'connected to a master the Sentinels have replaced; reconnecting');
    this.client.disconnect(true);
  }

  private masterDetail(): { master?: string } {
    const master = this.connectedMaster();
    return master ? { master } : {};
  }

  private watchState(): void {
    const c = this.client;
    c.on('ready', () => {
      if (this.up) return;
      this.up = true;
      this.errorLogged = false;
      if (this.everUp) {
        const downForMs = Date.now() - this.downSince;
        this.logger.info({ server: this.server, ...this.masterDetail(), downForMs }, 'Redis connection restored');
      } else {
        this.logger.info({ server: this.server, ...this.masterDetail() }, 'connected to Redis');
      }
      this.everUp = true;
      if (isSentinelMode(this.options)) void this.leaveReplacedMaster();
    });
    // ioredis ends a client for good when asked to (our shutdown), and also when a connect attempt
    // is aborted from inside: in Sentinel mode its failover detector can abort one mid-way. Short
    // of our own shutdown, start over, as the retry strategy would have.
    c.on('end', () => {
      if (this.shuttingDown || this.revival) return;
      this.logger.warn({ server: this.server }, 'Redis client ended unexpectedly; connecting again');
      this.revival = setTimeout(() => {
        this.revival = undefined;
        if (!this.shuttingDown) c.connect().catch(() => undefined);
      }, reconnectDelay(1, this.reconnectCapMs));
    });
    c.on('close', () => {
      if (!this.up) return;
      this.up = false;
      this.downSince = Date.now();
      if (!this.shuttingDown) this.logger.warn({ server: this.server }, 'Redis connection lost; reconnecting in the background');
    });
    // Without a listener ioredis prints every failed attempt to the console; log the first per outage.
    c.on('error', (err: Error) => {
      if (this.shuttingDown) return;
      if (this.errorLogged) {
        this.logger.debug({ err, server: this.server }, 'Redis error');
        return;
      }
      this.errorLogged = true;
      this.logger.error({ err, server: this.server }, 'Redis error');
    });
    c.on('reconnecting', (delayMs: number) => this.logger.debug({ server: this.server, delayMs }, 'Redis reconnect scheduled'));
  }

  async onApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    clearTimeout(this.revival);
    this.switchWatch?.stop();
    const c = this.client;
    if (c.status !== 'ready') {
      c.disconnect();
      return;
    }
    const ended = eventWithin(c, 'end', 1_000);
    try {
      await c.quit();
    } catch (err) {
      this.logger.warn({ err, server: this.server }, 'Redis QUIT failed; disconnecting');
    }
    // QUIT resolves on the server's OK and the socket closes a moment later: wait for that, never
    // long on a server that stopped answering.
    if (!(await ended)) c.disconnect();
  }
}
