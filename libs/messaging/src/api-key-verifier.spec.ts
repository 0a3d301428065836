import { InvalidCredentialsError, type Principal } from '@sb/contracts';
import { ApiKeyVerifier, credentialDisplayParts, type KeyRefusal } from './api-key-verifier';

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
