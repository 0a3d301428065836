/** Local token verification refuses every forgery the security suite tries, without a round trip. */
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
import type { Jwks } from '@sb/contracts';
import { looksLikeJwt, TokenRefusal, TokenVerifier } from './token-verifier';

const ISS = 'switchboard';
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('TokenVerifier', () => {
  let jwks: Jwks;
  let privateKey: CryptoKey;
  let fetches = 0;
  let nowMs = Date.now();
  const claims = { tenant_id: 'tn_a', scopes: ['tasks:submit'] };

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey as CryptoKey;
    jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] } as Jwks;
  });

  const verifier = () => new TokenVerifier(async () => (fetches++, jwks), ISS, 2_000, () => nowMs);
  const sign = (over: { kid?: string; iss?: string; aud?: string; nbf?: number; exp?: number; key?: CryptoKey } = {}) => {
    const t = Math.floor(nowMs / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: over.kid ?? 'k1' })
      .setIssuer(over.iss ?? ISS)
      .setAudience(over.aud ?? 'switchboard-api')
      .setSubject('key_1')
      .setJti('j1')
      .setIssuedAt(t)
      .setNotBefore(over.nbf ?? t)
      .setExpirationTime(over.exp ?? t + 600)
      .sign(over.key ?? privateKey);
  };

  beforeEach(() => {
    fetches = 0;
    nowMs = Date.now();
  });

  it('accepts a good token, fetching the key set once', async () => {
    const v = verifier();
    await expect(v.verify(await sign())).resolves.toMatchObject({ keyId: 'key_1', tenantId: 'tn_a', scopes: ['tasks:submit'] });
    await v.verify(await sign());
    expect(fetches).toBe(1);
  });

  it.each([
    ['wrong issuer', { iss: 'evil' }, 'iss'],
    ['wrong audience', { aud: 'other' }, 'aud'],
    ['future nbf beyond the skew', { nbf: Math.floor(Date.now() / 1000) + 60 }, 'nbf'],
    ['expired', { exp: Math.floor(Date.now() / 1000) - 60 }, 'exp'],
  ])('refuses %s', async (_name, over, reason) => {
    const v = verifier();
    await expect(v.verify(await sign(over))).rejects.toMatchObject({ reason });
  });

  it('refuses alg none and HS256 signed with the public key (algorithm confusion)', async () => {
    const v = verifier();
    await v.refresh(true);
    const t = Math.floor(nowMs / 1000);
    const body = b64({ ...claims, sub: 'key_1', iss: ISS, aud: 'switchboard-api', iat: t, nbf: t, exp: t + 600, jti: 'j' });
    await expect(v.verify(`${b64({ alg: 'none', kid: 'k1' })}.${body}.`)).rejects.toBeInstanceOf(TokenRefusal);
    const secret = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
    const hs = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setIssuer(ISS).setAudience('switchboard-api').setSubject('key_1').setJti('j').setIssuedAt(t).setNotBefore(t).setExpirationTime(t + 600).sign(secret);
    await expect(v.verify(hs)).rejects.toMatchObject({ reason: 'alg' });
  });

  it('refuses a token signed by another key, and an unknown kid after one bounded refresh', async () => {
    const v = verifier();
    const other = (await generateKeyPair('ES256')).privateKey as CryptoKey;
    await expect(v.verify(await sign({ key: other }))).rejects.toMatchObject({ reason: 'signature' });
    await expect(v.verify(await sign({ kid: 'nope' }))).rejects.toMatchObject({ reason: 'kid' });
    await expect(v.verify(await sign({ kid: 'nope' }))).rejects.toMatchObject({ reason: 'kid' });
    expect(fetches).toBe(1); // the first miss fetched the key set; later unknown kids within 2 s are throttled
  });

  it('tells JWT-shaped credentials from API keys', () => {
    expect(looksLikeJwt('aaa.bbb.ccc')).toBe(true);
    expect(looksLikeJwt('sbk_abcdef')).toBe(false);
  });
});
