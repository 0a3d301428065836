/**
 * RedisModule in Sentinel mode against a real Sentinel set (libs/testing redis-sentinel.ts: a
 * primary, a replica, three Sentinels with quorum 2, as local processes). Configured the way a
 * service is (REDIS_SENTINELS / REDIS_SENTINEL_NAME through the config schema), the client:
 * connects to whichever server the Sentinels name, follows a graceful failover (the old master
 * still alive, left at the Sentinels' announcement) and a crash of the master (SIGKILL), each
 * time without a restart, and
 * keeps the rate-limit state that was replicated before the switch. A wrong group name stops
 * startup with a message that names the group and the Sentinels.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { parseConfig, redisConfigShape } from '@sb/config';
import { createLogger, ObservabilityModule, ReadinessRegistry } from '@sb/observability';
import { eventually, type RedisSentinelSet, startRedisSentinelSet } from '@sb/testing';
import { z } from 'zod';
import { RateLimiter } from './rate-limiter';
import { RedisClient } from './redis-client';
import { redisConnectionOf } from './redis-connection';
import { RedisModule } from './redis.module';

jest.setTimeout(90_000);

type LogLine = { msg: string; [k: string]: unknown };

async function boot(env: Record<string, string>, prefix: string, startupTimeoutMs?: number) {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger('test', 'info', sink);
  // The service path: environment → config schema → connection options → module.
  const config = parseConfig(z.object(redisConfigShape), env);
  const moduleRef = await Test.createTestingModule({
    imports: [
      ObservabilityModule.forRoot({ service: 'test', logger, config: {} }),
      RedisModule.forRoot({ ...redisConnectionOf(config), keyPrefix: prefix, service: 'sentinel-int-spec', startupTimeoutMs }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  try {
    await app.init();
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  return { app, lines };
}

/** The readiness check's details: what /health/ready reports for Redis. */
async function readiness(app: INestApplication): Promise<{ server: string; master?: string }> {
  const check = app.get(ReadinessRegistry).all().find((c) => c.name === 'redis')!;
  return (await check.check()) as { server: string; master?: string };
}

describe('RedisModule with Sentinels', () => {
  let set: RedisSentinelSet;
  const prefix = `sbtest-sent-${randomBytes(4).toString('hex')}`;
  const limit = { rate: 1, periodMs: 3_600_000, burst: 2 };

  beforeAll(async () => {
    set = await startRedisSentinelSet({ replicas: 1, sentinels: 3 });
  });
  afterAll(async () => {
    await set?.destroy();
  });

  // First: ioredis's Sentinel connector may still have a retry timer (≤ 1 s) running after the failed start.
  it('stops startup with a clear message when the Sentinels do not know the group', async () => {
    const started = Date.now();
    await expect(boot({ ...set.env, REDIS_SENTINEL_NAME: 'no-such-group' }, prefix, 1_500)).rejects.toThrow(
      `Cannot connect to Redis at sentinel no-such-group via ${set.sentinelList} within 1500 ms`,
    );
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('connects to the master the Sentinels name, and follows a graceful failover and a crash of the master', async () => {
    const first = await set.master();
    const { app, lines } = await boot({ REDIS_URL: 'redis://127.0.0.1:1', ...set.env }, prefix);
    try {
      const redis = app.get(RedisClient);
      const limiter = app.get(RateLimiter);
      // REDIS_URL's host and port are not used: the Sentinels say where the master is.
      expect(await readiness(app)).toMatchObject({ server: `sentinel ${set.name} via ${set.sentinelList}`, master: first });
      expect(lines.find((l) => l.msg === 'connected to Redis')).toMatchObject({ master: first });

      // Use up the bucket, and make sure the replica has it before the master changes.
      for (let i = 0; i < limit.burst; i++) expect((await limiter.check('k', limit)).allowed).toBe(true);
      expect((await limiter.check('k', limit)).allowed).toBe(false);
      expect(await redis.client.wait(1, 1_500)).toBe(1);

      // 1. Graceful: one Sentinel promotes the replica; the old master is demoted and stays up.
      let watch = set.watchFailover();
      await watch.subscribed;
      await set.sentinel('FAILOVER', set.name);
      const graceful = await watch.next;
      watch.close();
      expect(graceful.from).toBe(first);
      await eventually(async () => (await readiness(app)).master === graceful.to, { timeoutMs: 30_000, intervalMs: 50, description: 'the client on the promoted master' });
      // It left the old master (still running, not yet demoted) on the Sentinels' announcement. A Sentinel that had
      // not heard of the switch yet may have sent it back there once more; the next announcement moved it again.
      const switched = () => lines.filter((l) => l.msg === 'the Sentinels switched the master; reconnecting');
      const nudges = switched().length;
      expect(nudges).toBeGreaterThanOrEqual(1);
      expect(switched().every((l) => l.master === first && l.to === graceful.to)).toBe(true);
      expect((await limiter.check('k', limit)).allowed).toBe(false);
      expect((await limiter.check('k2', limit)).allowed).toBe(true);

      // 2. Crash: SIGKILL the (new) master once the set is steady again (the old one rejoined as a replica).
      await set.steady();
      expect(await redis.client.wait(1, 1_500)).toBe(1);
      watch = set.watchFailover();
      await watch.subscribed;
      const victim = await set.masterServer();
      victim.kill('SIGKILL');
      const crash = await watch.next;
      watch.close();
      expect(crash).toMatchObject({ from: graceful.to, to: first });
      await eventually(async () => (await readiness(app)).master === crash.to, { timeoutMs: 30_000, intervalMs: 50, description: 'the client on the master promoted after the crash' });
      // The state replicated before each switch is still there: the bucket is still empty.
      expect((await limiter.check('k', limit)).allowed).toBe(false);
      expect((await limiter.check('k2', limit)).remaining).toBe(0);
      // The crash needed no such nudge: the connection was gone, and the late announcements name where it already is.
      expect(switched()).toHaveLength(nudges);
      const restored = lines.filter((l) => l.msg === 'Redis connection restored');
      expect(restored.at(-1)).toMatchObject({ master: crash.to, downForMs: expect.any(Number) });
      // No credentials in what was logged.
      expect(JSON.stringify(lines)).not.toMatch(/redis:\/\/[^@\s]*@/);

      // A client ended from inside (ioredis ends one when a connect attempt is aborted mid-way) connects again by itself.
      redis.client.disconnect();
      await eventually(async () => (await readiness(app)).master === crash.to, { timeoutMs: 30_000, intervalMs: 50, description: 'the ended client back' });
      expect(lines.filter((l) => l.msg === 'Redis client ended unexpectedly; connecting again')).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});
