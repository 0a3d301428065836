import { z } from 'zod';
import { ConfigError, parseConfig, redisConfigShape } from './parse-config';
import { parseSentinelList } from './redis-config';

describe('Redis configuration', () => {
  const schema = z.object({ ...redisConfigShape, OTHER: z.string().default('x') });
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      parseConfig(schema, env);
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
    return [];
  };

  it('is plain REDIS_URL by default: no Sentinel settings', () => {
    expect(parseConfig(schema, {})).toEqual({ REDIS_URL: 'redis://127.0.0.1:6379', OTHER: 'x' });
  });

  it('parses Sentinels, the group name and the Sentinel password', () => {
    const c = parseConfig(schema, {
      REDIS_URL: 'redis://:pw@ignored:6379/2',
      REDIS_SENTINELS: ' s1.redis.svc:26379, 10.0.0.7:26380 ,[fd00::1]:26381,s4 ',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
    });
    expect(c.REDIS_SENTINELS).toEqual([
      { host: 's1.redis.svc', port: 26379 },
      { host: '10.0.0.7', port: 26380 },
      { host: 'fd00::1', port: 26381 },
      { host: 's4', port: 26379 },
    ]);
    expect(c).toMatchObject({ REDIS_URL: 'redis://:pw@ignored:6379/2', REDIS_SENTINEL_NAME: 'mymaster', REDIS_SENTINEL_PASSWORD: 'sentinel-secret' });
  });

  it('treats empty values as unset, so a blank compose entry keeps standalone mode', () => {
    expect(parseConfig(schema, { REDIS_SENTINELS: '', REDIS_SENTINEL_NAME: '' })).not.toHaveProperty('REDIS_SENTINELS');
  });

  it('requires the group name with Sentinels, and Sentinels with a name or Sentinel password', () => {
    expect(problemsOf({ REDIS_SENTINELS: 's1:26379' })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_NAME: required with REDIS_SENTINELS/)]);
    expect(problemsOf({ REDIS_SENTINEL_NAME: 'mymaster' })).toEqual([expect.stringMatching(/^REDIS_SENTINELS: required with REDIS_SENTINEL_NAME/)]);
    expect(problemsOf({ REDIS_SENTINEL_PASSWORD: 'p' })).toEqual(['REDIS_SENTINEL_PASSWORD: only meaningful with REDIS_SENTINELS']);
  });

  it('names every bad value, alongside the cross-variable problems', () => {
    const problems = problemsOf({ REDIS_URL: 'http://x', REDIS_SENTINELS: 's1:99999', REDIS_SENTINEL_PASSWORD: 'p' });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^REDIS_URL: expected redis:\/\/ or rediss:\/\//),
        expect.stringMatching(/^REDIS_SENTINELS: "s1:99999" is not host:port/),
        expect.stringMatching(/^REDIS_SENTINEL_NAME: required/),
      ]),
    );
    expect(problemsOf({ REDIS_SENTINELS: 's1', REDIS_SENTINEL_NAME: 'my master' })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_NAME: expected a Sentinel master group name/)]);
  });

  it('applies the cross-variable rules only to schemas that hold the Redis settings', () => {
    expect(parseConfig(z.object({ OTHER: z.string().default('x') }), { REDIS_SENTINELS: 's1:26379' })).toEqual({ OTHER: 'x' });
  });

  describe('parseSentinelList', () => {
    it.each([
      ['', 'expected at least one host:port'],
      [' , ', 'expected at least one host:port'],
      ['s1:', '"s1:" is not host:port'],
      ['s1:0', '"s1:0" is not host:port'],
      ['s1:abc', '"s1:abc" is not host:port'],
      ['redis://s1:26379', '"redis://s1:26379" is not host:port'],
      ['s1:26379,s1:26379', '"s1:26379" is listed twice'],
      ['s1 s2', '"s1 s2" is not host:port'],
    ])('rejects %j', (value, message) => {
      expect(() => parseSentinelList(value)).toThrow(message);
    });
  });
});
