/**
 * Turns a bearer credential into a principal with the needed permission.
 *  - API keys: verified by auth, cached briefly per credential hash (ApiKeyVerifier, shared with
 *    the collector); auth pushes revocations and rotations, which evict at once.
 *  - Access tokens (JWT-shaped credentials): verified locally, then checked against the keys
 *    auth said were revoked or expired (`invalidate`).
 * Every refusal is a 401 with the same message (403 for a missing permission), and a security
 * event with identifiers only — never the secret.
 */
import { ForbiddenError, InvalidCredentialsError, type KeyInvalidation, type Principal, type Scope, scopeGrants, type SecurityEventType } from '@sb/contracts';
import { ApiKeyVerifier, type AuthorizePort, parseBearer, type SecurityEventInput } from '@sb/messaging';
import { currentRequest, type RequestInfo } from './request-context';
import { looksLikeJwt, TokenRefusal } from './token-verifier';

export { type AuthorizePort, parseBearer };

export interface TokenPort {
  verify(token: string): Promise<Principal>;
}
export interface AuthenticatorOptions {
  tokens?: TokenPort;
  events?: (e: SecurityEventInput) => void;
  context?: () => RequestInfo;
}

export class Authenticator {
  private readonly keys: ApiKeyVerifier;
  /** keyId → when it stopped (or stops) being valid, and why. */
  private readonly keyEnds = new Map<string, { at: number; why: 'revoked' | 'expired' }>();

  constructor(
    port: AuthorizePort,
    ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly opts: AuthenticatorOptions = {},
  ) {
    this.keys = new ApiKeyVerifier(port, ttlMs, now);
  }

  static hash(credential: string): string {
    return ApiKeyVerifier.hash(credential);
  }

  /** `header` is the raw Authorization header value; the key needs any one of `permissions`. */
  async authenticate(header: string | undefined, ...permissions: Scope[]): Promise<Principal> {
    let credential: string;
    try {
      credential = parseBearer(header);
    } catch (e) {
      this.emit('invalid_credentials', { reason: header ? 'malformed_header' : 'missing' });
      throw e;
    }
    const principal = looksLikeJwt(credential) ? await this.verifyToken(credential) : await this.verifyKey(credential);
    if (!permissions.some((p) => allows(principal, p))) {
      this.emit('forbidden', { keyId: principal.keyId, tenantId: principal.tenantId, reason: permissions.join('|') });
      throw new ForbiddenError(`This key lacks the ${permissions.join(' or ')} permission`);
    }
    return principal;
  }

  /** Report an attempt on another tenant's resource (the caller answers 404). */
  crossTenant(p: Principal, addressedTenantId: string): void {
    this.emit('cross_tenant', { keyId: p.keyId, tenantId: p.tenantId, reason: `tenant:${addressedTenantId}`.slice(0, 128) });
  }

  private async verifyToken(token: string): Promise<Principal> {
    try {
      if (!this.opts.tokens) throw new TokenRefusal('unsupported');
      const p = await this.opts.tokens.verify(token);
      const end = this.keyEnds.get(p.keyId);
      if (end && end.at <= this.now()) throw new TokenRefusal(end.why, p.keyId, p.tenantId);
      return p;
    } catch (e) {
      if (!(e instanceof TokenRefusal)) throw e;
      const type: SecurityEventType = e.reason === 'revoked' ? 'revoked_key' : e.reason === 'expired' ? 'expired_key' : 'invalid_token';
      this.emit(type, { keyId: e.keyId, tenantId: e.tenantId, reason: `token:${e.reason}` });
      throw new InvalidCredentialsError();
    }
  }

  private verifyKey(credential: string): Promise<Principal> {
    return this.keys.verify(credential, ({ type, ...fields }) => this.emit(type, fields));
  }

  /** A key was revoked: forget it now. */
  evict(hash: string): void {
    this.keys.evict(hash);
  }

  /** Auth says a key was revoked or got an earlier expiry: evict its cached checks, refuse its tokens from then on. */
  invalidate(n: Partial<KeyInvalidation>): void {
    if (typeof n.hash === 'string') this.evict(n.hash);
    if (typeof n.keyId !== 'string') return;
    const revoked = typeof n.revokedAt === 'string' ? Date.parse(n.revokedAt) : NaN;
    const expires = typeof n.expiresAt === 'string' ? Date.parse(n.expiresAt) : NaN;
    if (!Number.isNaN(revoked)) this.keyEnds.set(n.keyId, { at: revoked, why: 'revoked' });
    else if (!Number.isNaN(expires)) this.keyEnds.set(n.keyId, { at: expires, why: 'expired' });
  }

  private emit(type: SecurityEventType, fields: Omit<SecurityEventInput, 'type' | 'transport'>): void {
    if (!this.opts.events) return;
    const ctx = this.opts.context?.() ?? currentRequest();
    const clean = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    this.opts.events({ type, transport: ctx.transport, route: ctx.route, ...clean });
  }
}

/** `admin` holds every permission but `agent` (no HTTP route asks for `agent`: an agent key passes none). */
export function allows(p: Principal, permission: Scope): boolean {
  return scopeGrants(p.scopes, permission);
}

export function isAdmin(p: Principal): boolean {
  return p.scopes.includes('admin');
}
