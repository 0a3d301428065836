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
 */
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type AppLogger, LOGGER, ReadinessRegistry } from '@sb/observability';
import { Redis } from 'ioredis';
import { createKeyBuilder, normalizeKeyPrefix, type RedisKeyspace } from './redis-keys';

export interface RedisModuleOptions {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://` for TLS. */
  url: string;
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

/** `host:port` without credentials, for logs and readiness details. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return '(unparseable REDIS_URL)';
  }
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
  /** `host:port` (no credentials). */
  readonly server: string;
  private readonly buildKey: (...parts: Array<string | number>) => string;
  private up = false;
  private everUp = false;
  private downSince = 0;
  private errorLogged = false;
  private shuttingDown = false;

  constructor(
    @Inject(REDIS_OPTIONS) readonly options: RedisModuleOptions,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
  ) {
    this.keyPrefix = normalizeKeyPrefix(options.keyPrefix);
    this.buildKey = createKeyBuilder(this.keyPrefix);
    this.server = describeRedisUrl(options.url);
    const cap = options.maxReconnectDelayMs ?? 2_000;
    this.client = new Redis(options.url, {
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
    });
    this.watchState();
  }

  /** `<prefix>:a:b:c`; parts must be non-empty and free of whitespace/control characters. */
  key(...parts: Array<string | number>): string {
    return this.buildKey(...parts);
  }

  async onModuleInit(): Promise<void> {
    await this.connectWithin(this.options.startupTimeoutMs ?? 10_000);
    this.readiness.register({
      name: 'redis',
      check: async () => {
        if (this.client.status !== 'ready') throw new Error(`Redis connection is ${this.client.status}`);
        const started = process.hrtime.bigint();
        await this.client.ping();
        const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
        return { latencyMs: Number(latencyMs.toFixed(3)), server: this.server };
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
        this.client.disconnect();
        const reason = lastError instanceof Error ? lastError.message : 'no reply';
        throw new Error(`Cannot connect to Redis at ${this.server} within ${timeoutMs} ms: ${reason}`, { cause: lastError });
      }
    } finally {
      this.client.off('error', onError);
    }
  }

  private watchState(): void {
    const c = this.client;
    c.on('ready', () => {
      if (this.up) return;
      this.up = true;
      this.errorLogged = false;
      if (this.everUp) {
        this.logger.info({ server: this.server, downForMs: Date.now() - this.downSince }, 'Redis connection restored');
      } else {
        this.logger.info({ server: this.server }, 'connected to Redis');
      }
      this.everUp = true;
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
    const c = this.client;
    if (c.status === 'end') return;
    if (c.status !== 'ready') {
      c.disconnect();
      return;
    }
    const ended = eventWithin(c, 'end', 1_000);
    try {
      await c.quit();
    } catch (err) {
      this.logger.warn({ err, server: this.server }, 'Redis QUIT failed; disconnecting');
      c.disconnect();
    }
    // QUIT resolves on the server's OK and the socket closes a moment later: return only once it
    // has, and never wait long on a server that stopped answering.
    if (!(await ended)) c.disconnect();
  }
}
