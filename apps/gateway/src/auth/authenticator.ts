/**
 * Turns a bearer credential into a principal with the needed permission.
 *  - API keys: verified by auth, cached briefly per credential hash; auth pushes revocations
 *    and rotations, which evict at once.
 *  - Access tokens (JWT-shaped credentials): verified locally, then checked against the keys
 *    auth said were revoked or expired (`invalidate`).
 * Every refusal is a 401 with the same message (403 for a missing permission), and a security
 * event with identifiers only — never the secret.
 */
import { createHash } from 'node:crypto';
import { ForbiddenError, InvalidCredentialsError, isSbError, type KeyInvalidation, type Principal, type Scope, type SecurityEventType } from '@sb/contracts';
import type { SecurityEventInput } from '@sb/messaging';
import { currentRequest, type RequestInfo } from './request-context';
import { looksLikeJwt, TokenRefusal } from './token-verifier';

export interface AuthorizePort {
  /** Verify the credential and return its principal (scopes are checked here, locally). */
  authorize(credential: string): Promise<Principal>;
}
export interface TokenPort {
  verify(token: string): Promise<Principal>;
}
export interface AuthenticatorOptions {
  tokens?: TokenPort;
  events?: (e: SecurityEventInput) => void;
  context?: () => RequestInfo;
}

interface Entry {
  principal: Principal;
  until: number;
}

const MAX_ENTRIES = 10_000;

export class Authenticator {
  private readonly cache = new Map<string, Entry>();
  /** keyId → when it stopped (or stops) being valid, and why. */
  private readonly keyEnds = new Map<string, { at: number; why: 'revoked' | 'expired' }>();

  constructor(
    private readonly port: AuthorizePort,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly opts: AuthenticatorOptions = {},
  ) {}

  static hash(credential: string): string {
    return createHash('sha256').update(credential, 'utf8').digest('hex');
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

  private async verifyKey(credential: string): Promise<Principal> {
    const hash = Authenticator.hash(credential);
    const hit = this.cache.get(hash);
    const now = this.now();
    if (hit && hit.until > now) return hit.principal;
    let principal: Principal;
    try {
      principal = await this.port.authorize(credential);
    } catch (e) {
      if (!isSbError(e) || e.code !== InvalidCredentialsError.code) throw e;
      const d = (e.details ?? {}) as { reason?: string; keyId?: string; tenantId?: string };
      const type: SecurityEventType = d.reason === 'revoked' ? 'revoked_key' : d.reason === 'expired' ? 'expired_key' : 'invalid_credentials';
      this.emit(type, { keyId: d.keyId, tenantId: d.tenantId, ...displayParts(credential), reason: d.reason });
      throw new InvalidCredentialsError(); // the reason stays here
    }
    if (this.ttlMs > 0) {
      const expiry = principal.expiresAt ? Date.parse(principal.expiresAt) : Number.POSITIVE_INFINITY;
      if (this.cache.size >= MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(hash, { principal, until: Math.min(now + this.ttlMs, expiry) });
    }
    return principal;
  }

  /** A key was revoked: forget it now. */
  evict(hash: string): void {
    this.cache.delete(hash);
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

/** What a security event may carry of a credential: what a key listing shows. */
function displayParts(credential: string): { keyPrefix: string; keyLast4: string } {
  return { keyPrefix: credential.slice(0, Math.min(8, Math.max(0, credential.length - 12))), keyLast4: credential.length >= 16 ? credential.slice(-4) : '' };
}

export function parseBearer(header: string | undefined): string {
  if (!header) throw new InvalidCredentialsError('Missing Authorization header (expected "Bearer <api key>")');
  const m = /^Bearer\s+(\S{1,4096})\s*$/i.exec(header);
  if (!m) throw new InvalidCredentialsError('Malformed Authorization header (expected "Bearer <api key>")');
  return m[1];
}

export function allows(p: Principal, permission: Scope): boolean {
  return p.scopes.includes(permission) || p.scopes.includes('admin');
}

export function isAdmin(p: Principal): boolean {
  return p.scopes.includes('admin');
}
