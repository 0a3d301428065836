/** Auth's configuration refuses a weak bootstrap key and, in production, a missing KEK (#17, secrets at rest). */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '@sb/config';
import { generateApiKey } from '@sb/contracts';
import { loadAuthConfig } from './config';

const message = (env: Record<string, string>) => {
  try {
    loadAuthConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  return 'no error';
};

describe('auth config', () => {
  it('refuses bootstrap keys that are not of the generated format', () => {
    const key = generateApiKey();
    const badChecksum = key.slice(0, -1) + (key.endsWith('0') ? '1' : '0');
    for (const weak of ['admin-admin-admin-admin', 'sb_admin_0123456789abcdefghijABCDEFGHIJ', badChecksum]) {
      expect(message({ SB_BOOTSTRAP_ADMIN_KEY: weak })).toMatch(/SB_BOOTSTRAP_ADMIN_KEY: must be an API key of the generated format/);
      expect(message({ SB_BOOTSTRAP_AGENT_KEY: weak })).toMatch(/SB_BOOTSTRAP_AGENT_KEY: must be an API key of the generated format/);
    }
    expect(loadAuthConfig({ SB_BOOTSTRAP_ADMIN_KEY: generateApiKey(), SB_BOOTSTRAP_AGENT_KEY: generateApiKey() }).kek).toBeUndefined();
  });

  it('needs a KEK in production, and keeps its bytes out of the plain settings', () => {
    expect(message({ NODE_ENV: 'production' })).toMatch(/SB_KEK_FILE or SB_KEK: required when NODE_ENV=production/);
    const raw = randomBytes(32).toString('base64');
    const c = loadAuthConfig({ NODE_ENV: 'production', SB_KEK: raw });
    expect(c.kek?.id).toMatch(/^[0-9a-f]{16}$/);
    expect(c.SB_KEK).toBeUndefined();
    expect(JSON.stringify(c)).not.toContain(raw);
  });
});
