/**
 * Exchanges a valid API key for a short-lived ES256 access token. The token never outlives
 * its key: the lifetime is capped at the key's expiry.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { InvalidCredentialsError, type IssuedToken, type IssueTokenRequest, JWT_ALGORITHM, JWT_AUDIENCE } from '@sb/contracts';
import type { AuthorizeHandler } from '../authorize/authorize.handler';
import type { SigningKeyRing } from './signing-keys';

export class IssueTokenHandler {
  constructor(
    private readonly authorize: Pick<AuthorizeHandler, 'handle'>,
    private readonly ring: Pick<SigningKeyRing, 'signingKey'>,
    private readonly issuer: string,
    private readonly now: () => number = Date.now,
  ) {}

  async handle(req: IssueTokenRequest): Promise<IssuedToken> {
    const principal = await this.authorize.handle({ keyDigest: req.keyDigest });
    const nowS = Math.floor(this.now() / 1000);
    const keyEnd = principal.expiresAt ? Math.floor(Date.parse(principal.expiresAt) / 1000) : Infinity;
    const expiresIn = Math.min(req.ttlSeconds, keyEnd - nowS);
    if (expiresIn <= 0) throw new InvalidCredentialsError();
    const { kid, key } = await this.ring.signingKey();
    const token = await new SignJWT({ tenant_id: principal.tenantId, scopes: principal.scopes })
      .setProtectedHeader({ alg: JWT_ALGORITHM, kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(JWT_AUDIENCE)
      .setSubject(principal.keyId)
      .setIssuedAt(nowS)
      .setNotBefore(nowS)
      .setExpirationTime(nowS + expiresIn)
      .setJti(randomUUID())
      .sign(key);
    return { token, tokenType: 'Bearer', expiresIn };
  }
}
