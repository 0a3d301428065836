/**
 * Verifies access tokens locally: ES256 only (so `alg: none` and HS/RS confusion are refused
 * before any key is looked at), issuer, audience, nbf/exp with 5 s of skew, a bounded
 * lifetime. The key set comes from auth over NATS: at boot, on a `jwks changed` broadcast,
 * and on an unknown `kid` — at most once per `minRefreshMs`.
 */
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { type Jwks, JWT_ALGORITHM, JWT_AUDIENCE, MAX_TOKEN_TTL_S, type Principal, SCOPES, type Scope } from '@sb/contracts';

export const CLOCK_SKEW_S = 5;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** A bearer credential that looks like a JWT (three base64url segments) goes the token path. */
export function looksLikeJwt(credential: string): boolean {
  return JWT_SHAPE.test(credential);
}

/** Why a token was refused (for the security event; the caller only ever sees 401). */
export class TokenRefusal extends Error {
  constructor(readonly reason: string, readonly keyId?: string, readonly tenantId?: string) {
    super(`token refused: ${reason}`);
  }
}

export class TokenVerifier {
  private keySet = createLocalJWKSet({ keys: [] });
  private current: Jwks = { keys: [] };
  private lastFetch = Number.NEGATIVE_INFINITY;
  private inflight?: Promise<boolean>;

  constructor(
    private readonly fetchJwks: () => Promise<Jwks>,
    private readonly issuer: string,
    private readonly minRefreshMs = 2_000,
    private readonly now: () => number = Date.now,
  ) {}

  jwks(): Jwks {
    return this.current;
  }

  setJwks(jwks: Jwks): void {
    this.current = { keys: jwks.keys.filter((k) => k.alg === JWT_ALGORITHM) };
    this.keySet = createLocalJWKSet(this.current as Parameters<typeof createLocalJWKSet>[0]);
  }

  /** Fetch the key set unless one was fetched within `minRefreshMs` (or `force`). True if fetched. */
  refresh(force = false): Promise<boolean> {
    if (this.inflight) return this.inflight;
    if (!force && this.now() - this.lastFetch < this.minRefreshMs) return Promise.resolve(false);
    this.lastFetch = this.now();
    this.inflight = this.fetchJwks()
      .then((j) => {
        this.setJwks(j);
        return true;
      })
      .finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  async verify(token: string): Promise<Principal> {
    try {
      return await this.check(token);
    } catch (e) {
      if (codeOf(e) !== 'ERR_JWKS_NO_MATCHING_KEY') throw refusal(e);
      if (!(await this.refresh().catch(() => false))) throw new TokenRefusal('kid');
      try {
        return await this.check(token);
      } catch (e2) {
        throw refusal(e2);
      }
    }
  }

  private async check(token: string): Promise<Principal> {
    const { payload } = await jwtVerify(token, this.keySet, {
      algorithms: [JWT_ALGORITHM],
      issuer: this.issuer,
      audience: JWT_AUDIENCE,
      clockTolerance: CLOCK_SKEW_S,
      requiredClaims: ['sub', 'exp', 'nbf', 'iat', 'jti'],
      currentDate: new Date(this.now()),
      maxTokenAge: MAX_TOKEN_TTL_S + CLOCK_SKEW_S,
    });
    return toPrincipal(payload);
  }
}

function toPrincipal(p: JWTPayload): Principal {
  const tenantId = p.tenant_id;
  const scopes = p.scopes;
  if (typeof p.sub !== 'string' || typeof tenantId !== 'string' || !Array.isArray(scopes)) throw new TokenRefusal('claims');
  if ((p.exp as number) - (p.iat as number) > MAX_TOKEN_TTL_S) throw new TokenRefusal('lifetime', p.sub, tenantId);
  const valid = scopes.filter((s): s is Scope => (SCOPES as readonly unknown[]).includes(s));
  return { keyId: p.sub, tenantId, scopes: valid, expiresAt: new Date((p.exp as number) * 1000).toISOString() };
}

function codeOf(e: unknown): string | undefined {
  const c = (e as { code?: unknown })?.code;
  return typeof c === 'string' ? c : undefined;
}

const REASONS: Record<string, string> = {
  ERR_JWT_EXPIRED: 'exp',
  ERR_JOSE_ALG_NOT_ALLOWED: 'alg',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'signature',
  ERR_JWKS_NO_MATCHING_KEY: 'kid',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'kid',
  ERR_JWS_INVALID: 'malformed',
  ERR_JWT_INVALID: 'malformed',
};

function refusal(e: unknown): TokenRefusal {
  if (e instanceof TokenRefusal) return e;
  const code = codeOf(e);
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return new TokenRefusal(String((e as { claim?: unknown }).claim ?? 'claim'));
  return new TokenRefusal((code && REASONS[code]) ?? 'malformed');
}
