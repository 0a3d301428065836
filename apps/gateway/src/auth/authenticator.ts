/**
 * Turns a bearer credential into a principal with the needed permission. Verified principals
 * are cached briefly per credential hash; auth pushes revocations, which evict at once.
 */
import { createHash } from 'node:crypto';
import { ForbiddenError, InvalidCredentialsError, type Principal, type Scope } from '@sb/contracts';

export interface AuthorizePort {
  /** Verify the credential and return its principal (scopes are checked here, locally). */
  authorize(credential: string): Promise<Principal>;
}

interface Entry {
  principal: Principal;
  until: number;
}

const MAX_ENTRIES = 10_000;

export class Authenticator {
  private readonly cache = new Map<string, Entry>();

  constructor(
    private readonly port: AuthorizePort,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  static hash(credential: string): string {
    return createHash('sha256').update(credential, 'utf8').digest('hex');
  }

  /** `header` is the raw Authorization header value; the key needs any one of `permissions`. */
  async authenticate(header: string | undefined, ...permissions: Scope[]): Promise<Principal> {
    const principal = await this.verify(parseBearer(header));
    if (!permissions.some((p) => allows(principal, p))) throw new ForbiddenError(`This key lacks the ${permissions.join(' or ')} permission`);
    return principal;
  }

  private async verify(credential: string): Promise<Principal> {
    const hash = Authenticator.hash(credential);
    const hit = this.cache.get(hash);
    const now = this.now();
    if (hit && hit.until > now) return hit.principal;
    const principal = await this.port.authorize(credential);
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
