import { parseConfig, redisConfigShape } from '@sb/config';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { createRedisConnection, describeRedisConnection, reconnectOnReadonly, redisConnectionOf } from './redis-connection';

/** Built, never connected (lazyConnect): these tests read the options ioredis was given. */
const clients: Redis[] = [];
const build = (...args: Parameters<typeof createRedisConnection>) => {
  const c = createRedisConnection(args[0], { lazyConnect: true, ...args[1] });
  clients.push(c);
  return c;
};
afterAll(() => clients.forEach((c) => c.disconnect()));

const config = (env: Record<string, string>) => parseConfig(z.object(redisConfigShape), env);

describe('redisConnectionOf / createRedisConnection', () => {
  it('standalone: REDIS_URL only', () => {
    const conn = redisConnectionOf(config({ REDIS_URL: 'redis://:pw@cache:6380/3' }));
    expect(conn).toEqual({ url: 'redis://:pw@cache:6380/3' });
    const c = build(conn, { connectionName: 'svc' });
    expect(c.options).toMatchObject({ host: 'cache', port: 6380, password: 'pw', db: 3, connectionName: 'svc' });
    expect(c.options.sentinels ?? null).toBeNull();
    expect(describeRedisConnection(conn)).toBe('cache:6380');
  });

  it('Sentinel mode: asks the Sentinels for the master of the group; credentials and db come from REDIS_URL', () => {
    const conn = redisConnectionOf(
      config({ REDIS_URL: 'redis://app:pw@ignored:1/2', REDIS_SENTINELS: 's1:26379,[fd00::2]:26380', REDIS_SENTINEL_NAME: 'mymaster', REDIS_SENTINEL_PASSWORD: 'sp' }),
    );
    const c = build(conn, { connectTimeout: 1_234 });
    expect(c.options).toMatchObject({
      sentinels: [{ host: 's1', port: 26379 }, { host: 'fd00::2', port: 26380 }],
      name: 'mymaster',
      role: 'master',
      username: 'app',
      password: 'pw',
      db: 2,
      sentinelPassword: 'sp',
      sentinelCommandTimeout: 1_234,
    });
    expect(c.options.enableTLSForSentinelMode).toBeFalsy();
    // RedisClient follows switches itself (sentinel-watch.ts): ioredis's detector can end a client mid-reconnect.
    expect(c.options.failoverDetector).toBeFalsy();
    // Logs name the group and the Sentinels, never a password.
    expect(describeRedisConnection(conn)).toBe('sentinel mymaster via s1:26379,[fd00::2]:26380');
  });

  it('Sentinel mode over TLS when REDIS_URL is rediss://', () => {
    const c = build({ url: 'rediss://:pw@ignored:6379', sentinels: [{ host: 's1', port: 26379 }], sentinelName: 'm' });
    expect(c.options).toMatchObject({ enableTLSForSentinelMode: true, tls: expect.anything() });
  });

  it('refuses half a Sentinel setup at construction rather than at the first connect', () => {
    expect(() => createRedisConnection({ url: 'redis://x', sentinels: [{ host: 's1', port: 26379 }] })).toThrow('REDIS_SENTINEL_NAME');
    expect(() => createRedisConnection({ url: 'redis://x', sentinelName: 'm' })).toThrow('without Sentinels');
  });

  it('reconnects on READONLY only (a demoted master), not on other errors', () => {
    expect(reconnectOnReadonly(new Error("READONLY You can't write against a read only replica."))).toBe(true);
    expect(reconnectOnReadonly(new Error('NOSCRIPT No matching script'))).toBe(false);
  });
});
