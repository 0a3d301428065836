/**
 * Turns a bearer credential into a principal with the needed permission.
 *  - API keys: verified by auth (which is sent the key's SHA-256, never the key), cached briefly
 *    per credential hash (ApiKeyVerifier, shared with the collector); auth pushes revocations and
 *    rotations, which evict at once.
 *  - Access tokens (JWT-shaped credentials): verified locally, then checked against the keys
 *    auth said were revoked or expired (`invalidate`).
 * Every refusal is a 401 with the same message (403 for a missing permission), and a security
 * event with identifiers only — never the secret. A principal holds its effective scopes
 * (effectiveScopes): a tenant's key or token never carries an operator scope, whatever its
 * record or claims list.
 */
import {
  effectiveScopes,
  ForbiddenError,
  InvalidCredentialsError,
  type KeyActor,
  type KeyInvalidation,
  type Principal,
  type Scope,
  scopeGrants,
  type SecurityEventType,
  SYSTEM_TENANT_ID,
} from '@sb/contracts';
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
    const verified = looksLikeJwt(credential) ? await this.verifyToken(credential) : await this.verifyKey(credential);
    const principal: Principal = { ...verified, scopes: effectiveScopes(verified.tenantId, verified.scopes) };
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
    if (typeof n.keyId !== 'string') return;
    this.keys.evictKey(n.keyId);
    const revoked = typeof n.revokedAt === 'string' ? Date.parse(n.revokedAt) : NaN;
    const expires = typeof n.expiresAt === 'string' ? Date.parse(n.expiresAt) : NaN;
    if (!Number.isNaN(revoked)) this.keyEnds.set(n.keyId, { at: revoked, why: 'revoked' });
    else if (!Number.isNaN(expires)) this.keyEnds.set(n.keyId, { at: expires, why: 'expired' });
  }

  private emit(type: SecurityEventType, fields: Omit<SecurityEventInput, 'type' | 'transport'>): void {
    if (!this.opts.events) return;
    const ctx = this.opts.context?.() ?? currentRequest();
    const clean = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    this.opts.events({ type, transport: ctx.transport, route: ctx.route, source: ctx.source, ...clean });
  }
}

/** `admin` holds every permission but `agent` (no HTTP route asks for `agent`: an agent key passes none); `tenant:admin` the tenant scopes. */
export function allows(p: Principal, permission: Scope): boolean {
  return scopeGrants(p.scopes, permission);
}

/** The platform admin: `admin` on a system-tenant key. It reads and manages every tenant; anyone else only its own. */
export function isAdmin(p: Principal): boolean {
  return p.tenantId === SYSTEM_TENANT_ID && p.scopes.includes('admin');
}

/** The caller, as auth's key endpoints want it (`by`): auth decides what it may do with keys. */
export function keyActor(p: Principal): KeyActor {
  return { keyId: p.keyId, tenantId: p.tenantId, scopes: p.scopes };
}
