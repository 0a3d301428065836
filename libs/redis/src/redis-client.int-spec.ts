/**
 * RedisClient inside a Nest app against a real Redis: readiness with latency (in the registry and
 * on /health/ready), prefixed keys, state-change logging once per transition, QUIT on close, and a
 * bounded, clear failure when Redis is unreachable at startup.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { createLogger, ObservabilityModule, ReadinessRegistry } from '@sb/observability';
import type { Redis } from 'ioredis';
import { createRedisConnection } from './redis-connection';
import { RateLimiter } from './rate-limiter';
import { RedisClient } from './redis-client';
import { RedisModule } from './redis.module';
import { testEnv } from '@sb/testing';

const redisUrl = (): string => testEnv().redisUrl;

/** A pino destination that keeps the JSON lines, so tests read what the logger wrote. */
function logSink() {
  const lines: Array<{ level: string; msg: string; [k: string]: unknown }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

async function boot(opts: { prefix: string; url?: string; startupTimeoutMs?: number; sink?: Writable }) {
  const logger = opts.sink ? createLogger('test', 'info', opts.sink) : createLogger('test', 'silent');
  const moduleRef = await Test.createTestingModule({
    imports: [
      ObservabilityModule.forRoot({ service: 'test', logger, config: {} }),
      RedisModule.forRoot({ url: opts.url ?? redisUrl(), keyPrefix: opts.prefix, service: 'redis-int-spec', startupTimeoutMs: opts.startupTimeoutMs }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  try {
    await app.init();
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  return app;
}

// Booting Nest with Fastify is the slow part on a loaded CI machine, not Redis.
jest.setTimeout(20_000);

describe('RedisModule / RedisClient', () => {
  const prefix = `sbtest-rc-${randomBytes(6).toString('hex')}`;
  let admin: Redis;

  beforeAll(async () => {
    admin = createRedisConnection({ url: redisUrl() }, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await admin.connect();
  });

  afterAll(async () => {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  it('is ready with a measured PING latency, prefixes keys, and is closed after app.close()', async () => {
    const app = await boot({ prefix });
    const redis = app.get(RedisClient);
    try {
      const check = app.get(ReadinessRegistry).all().find((c) => c.name === 'redis');
      expect(check).toBeDefined();
      const details = (await check!.check()) as { latencyMs: number; server: string };
      expect(typeof details.latencyMs).toBe('number');
      expect(details.latencyMs).toBeGreaterThanOrEqual(0);
      expect(details.latencyMs).toBeLessThan(2_000);

      await app.listen(0, '127.0.0.1');
      const res = await fetch(`${await app.getUrl()}/health/ready`, { headers: { connection: 'close' } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { details: Record<string, unknown> };
      expect(body.details.redis).toMatchObject({ status: 'up', latencyMs: expect.any(Number) });

      expect(redis.key('hb', 'agent-1')).toBe(`${prefix}:hb:agent-1`);
      expect(() => redis.key('hb', 'agent 1')).toThrow(RangeError);
      await redis.client.set(redis.key('probe'), '1', 'PX', 60_000);
      expect(await admin.get(`${prefix}:probe`)).toBe('1');

      // The module's limiter writes through the same client and prefix.
      const decision = await app.get(RateLimiter).check('module', { rate: 1, periodMs: 60_000, burst: 2 });
      expect(decision).toMatchObject({ allowed: true, remaining: 1 });
      expect(await admin.exists(`${prefix}:rl:module`)).toBe(1);
      expect(await admin.client('LIST')).toContain('name=redis-int-spec');
    } finally {
      await app.close();
    }
    expect(redis.client.status).toBe('end');
    await expect(redis.client.ping()).rejects.toThrow();
  });

  it('logs a lost connection and its restoration once each, and fails fast while down', async () => {
    const sink = logSink();
    const app = await boot({ prefix, sink: sink.stream });
    const redis = app.get(RedisClient);
    try {
      const id = await redis.client.client('ID');
      const restored = new Promise<void>((resolve) => redis.client.once('ready', () => resolve()));
      await admin.client('KILL', 'ID', String(id));
      // While the socket is gone a command is rejected at once rather than queued.
      const started = Date.now();
      await redis.client.ping().catch(() => undefined);
      expect(Date.now() - started).toBeLessThan(500);
      await restored;
      expect(await redis.client.ping()).toBe('PONG');
      const msgs = sink.lines.map((l) => l.msg);
      expect(msgs.filter((m) => m === 'connected to Redis')).toHaveLength(1);
      expect(msgs.filter((m) => m.startsWith('Redis connection lost'))).toHaveLength(1);
      expect(msgs.filter((m) => m === 'Redis connection restored')).toHaveLength(1);
      // Credentials never reach the logs; the server is logged as host:port.
      expect(sink.lines.find((l) => l.msg === 'connected to Redis')?.server).toMatch(/^[^@/]+:\d+$/);
    } finally {
      await app.close();
    }
    expect(redis.client.status).toBe('end');
  });

  it('stops startup with a clear error when Redis is unreachable, within the startup timeout', async () => {
    const started = Date.now();
    await expect(boot({ prefix, url: 'redis://127.0.0.1:1', startupTimeoutMs: 400 })).rejects.toThrow(
      /Cannot connect to Redis at 127\.0\.0\.1:1 within 400 ms/,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
