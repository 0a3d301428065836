import { Endpoints, generateApiKey, InvalidCredentialsError, type Principal } from '@sb/contracts';
import { ApiKeyVerifier, apiKeyDigest, busAuthorizePort, credentialDisplayParts, type KeyRefusal } from './api-key-verifier';

describe('ApiKeyVerifier', () => {
  let t = 0;
  let calls = 0;
  const principal: Principal = { keyId: 'k1', tenantId: 'system', scopes: ['agent'], expiresAt: new Date(5_000).toISOString() };
  const verifier = () =>
    new ApiKeyVerifier(
      {
        authorize: async (c) => {
          calls++;
          if (c === 'sb_revoked_0123456789abcd') throw new InvalidCredentialsError(undefined, { details: { reason: 'revoked', keyId: 'k9', tenantId: 'system' } });
          if (c !== 'sb_good_0123456789abcdef') throw new InvalidCredentialsError(undefined, { details: { reason: 'unknown' } });
          return principal;
        },
      },
      3_000,
      () => t,
    );
  beforeEach(() => ([t, calls] = [0, 0]));

  it('caches an answer up to the TTL and never past the key expiry; evicts on notice', async () => {
    const v = verifier();
    await v.verify('sb_good_0123456789abcdef');
    t = 2_999;
    await v.verify('sb_good_0123456789abcdef');
    expect(calls).toBe(1);
    t = 3_000;
    await v.verify('sb_good_0123456789abcdef'); // TTL over: asked again, cached until the expiry (5 000)
    t = 4_999;
    await v.verify('sb_good_0123456789abcdef');
    expect(calls).toBe(2);
    t = 5_000;
    await v.verify('sb_good_0123456789abcdef');
    expect(calls).toBe(3);
    v.evict(ApiKeyVerifier.hash('sb_good_0123456789abcdef'));
    await v.verify('sb_good_0123456789abcdef');
    expect(calls).toBe(4);
  });

  it("evicts on auth's notice, which names the key's id", async () => {
    const v = verifier();
    await v.verify('sb_good_0123456789abcdef');
    v.evictKey('k_other');
    await v.verify('sb_good_0123456789abcdef');
    expect(calls).toBe(1);
    v.evictKey('k1');
    await v.verify('sb_good_0123456789abcdef');
    expect(calls).toBe(2);
  });

  it('over the bus, sends auth the key\'s SHA-256, never the key, and refuses a malformed key without asking', async () => {
    const sent: unknown[] = [];
    const port = busAuthorizePort({ request: (async (endpoint: unknown, payload: unknown) => (sent.push({ endpoint, payload }), principal)) as never });
    const key = generateApiKey();
    await expect(port.authorize(key)).resolves.toBe(principal);
    expect(sent).toEqual([{ endpoint: Endpoints.authorize, payload: { keyDigest: apiKeyDigest(key) } }]);
    expect(JSON.stringify(sent)).not.toContain(key);
    for (const bad of ['garbage', key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A'), 'sb_good_0123456789abcdef']) {
      await expect(port.authorize(bad)).rejects.toMatchObject({ code: 'AUTH.INVALID_CREDENTIALS', details: { reason: 'malformed' } });
    }
    expect(sent).toHaveLength(1);
  });

  it('answers every refusal with the same 401, reports why with identifiers only, and caches none', async () => {
    const v = verifier();
    const heard: KeyRefusal[] = [];
    for (const c of ['sb_revoked_0123456789abcd', 'nope', 'nope']) {
      const e = await v.verify(c, (r) => heard.push(r)).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(InvalidCredentialsError);
      expect((e as InvalidCredentialsError).details).toBeUndefined();
    }
    expect(calls).toBe(3);
    expect(heard).toEqual([
      { type: 'revoked_key', keyId: 'k9', tenantId: 'system', keyPrefix: 'sb_revok', keyLast4: 'abcd', reason: 'revoked' },
      { type: 'invalid_credentials', keyId: undefined, tenantId: undefined, keyPrefix: '', keyLast4: '', reason: 'unknown' },
      { type: 'invalid_credentials', keyId: undefined, tenantId: undefined, keyPrefix: '', keyLast4: '', reason: 'unknown' },
    ]);
    expect(credentialDisplayParts('short')).toEqual({ keyPrefix: '', keyLast4: '' });
  });
});
