import { z } from 'zod';
import { baseConfigShape, ConfigError, env, parseConfig } from './parse-config';

describe('parseConfig', () => {
  const schema = z.object({ ...baseConfigShape, WORKER_CONCURRENCY: env.int(16, 1, 1024), FLAG: env.bool(false), LIST: env.csv(['a']) });

  it('applies defaults and coerces types', () => {
    const c = parseConfig(schema, {});
    expect(c).toMatchObject({ NATS_URL: 'nats://127.0.0.1:4222', HTTP_PORT: 8080, WORKER_CONCURRENCY: 16, FLAG: false, LIST: ['a'], SB_PREFIX: 'sb' });
    expect(parseConfig(schema, { FLAG: 'true', LIST: 'x, y,,z', HTTP_PORT: '9000' })).toMatchObject({ FLAG: true, LIST: ['x', 'y', 'z'], HTTP_PORT: 9000 });
  });

  it('names every bad variable', () => {
    expect(() => parseConfig(schema, { HTTP_PORT: 'eighty', NATS_URL: 'http://x', WORKER_CONCURRENCY: '0' })).toThrow(ConfigError);
    try {
      parseConfig(schema, { HTTP_PORT: 'eighty', NATS_URL: 'http://x', WORKER_CONCURRENCY: '0' });
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain('HTTP_PORT');
      expect(msg).toContain('NATS_URL');
      expect(msg).toContain('WORKER_CONCURRENCY');
    }
  });

  it('treats empty strings as unset', () => {
    expect(parseConfig(schema, { HTTP_PORT: '' }).HTTP_PORT).toBe(8080);
  });

  it('ignores variables outside the schema', () => {
    expect(parseConfig(schema, { SOMETHING_ELSE: '1' })).not.toHaveProperty('SOMETHING_ELSE');
  });
});
