/**
 * API keys as auth answers for them (`Endpoints.authorize`, over the bus), cached briefly per
 * SHA-256 of the credential: the gateway's Authenticator and the collector's agent check share
 * it. Only positive answers are cached, never beyond the key's own expiry; auth's notices of
 * revoked or shortened keys (`Events.keyRevoked`, naming the key's id) evict at once.
 * A refusal is reported with identifiers only (never the secret) and thrown as the one 401
 * every subject answers with, whatever auth's reason was.
 *
 * Over the bus (busAuthorizePort) only the key's SHA-256 travels, never the key; a credential
 * that is not of the API-key format is refused here without asking auth.
 */
import { createHash } from 'node:crypto';
import { Endpoints, InvalidCredentialsError, isSbError, isWellFormedApiKey, type Principal, type SecurityEventType } from '@sb/contracts';
import type { Bus } from './bus';

/** SHA-256 of an API key, hex: what an edge sends auth instead of the key. */
export function apiKeyDigest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export interface AuthorizePort {
  /** Verify the credential and return its principal (permissions are the caller's to check). */
  authorize(credential: string): Promise<Principal>;
}

/** What a refusal may tell a security event: auth's reason and the key's identifiers, never the key. */
export interface KeyRefusal {
  type: Extract<SecurityEventType, 'invalid_credentials' | 'revoked_key' | 'expired_key'>;
  keyId?: string;
  tenantId?: string;
  keyPrefix: string;
  keyLast4: string;
  reason?: string;
}

interface Entry {
  principal: Principal;
  until: number;
}

/** Auth over the bus: the key's digest is sent, never the key; a malformed key is refused here (auth's "malformed"). */
export function busAuthorizePort(bus: Pick<Bus, 'request'>): AuthorizePort {
  return {
    authorize: async (credential) => {
      if (!isWellFormedApiKey(credential)) throw new InvalidCredentialsError(undefined, { details: { reason: 'malformed' } });
      return bus.request(Endpoints.authorize, { keyDigest: apiKeyDigest(credential) });
    },
  };
}

const MAX_ENTRIES = 10_000;

export class ApiKeyVerifier {
  private readonly cache = new Map<string, Entry>();
  /** keyId → the cache key of its entry (one credential per key id). */
  private readonly byKeyId = new Map<string, string>();

  constructor(
    private readonly port: AuthorizePort,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cache key (SHA-256, hex). */
  static hash(credential: string): string {
    return apiKeyDigest(credential);
  }

  /** The key's principal: cached, or asked of auth. `refused` hears why a key was refused (then InvalidCredentialsError is thrown). */
  async verify(credential: string, refused?: (r: KeyRefusal) => void): Promise<Principal> {
    const hash = ApiKeyVerifier.hash(credential);
    const now = this.now();
    const hit = this.cache.get(hash);
    if (hit && hit.until > now) return hit.principal;
    let principal: Principal;
    try {
      principal = await this.port.authorize(credential);
    } catch (e) {
      if (!isSbError(e) || e.code !== InvalidCredentialsError.code) throw e;
      this.drop(hash);
      const d = (e.details ?? {}) as { reason?: string; keyId?: string; tenantId?: string };
      const type = d.reason === 'revoked' ? 'revoked_key' : d.reason === 'expired' ? 'expired_key' : 'invalid_credentials';
      refused?.({ type, keyId: d.keyId, tenantId: d.tenantId, ...credentialDisplayParts(credential), reason: d.reason });
      throw new InvalidCredentialsError(); // the reason stays here
    }
    if (this.ttlMs > 0) {
      const expiry = principal.expiresAt ? Date.parse(principal.expiresAt) : Number.POSITIVE_INFINITY;
      if (this.cache.size >= MAX_ENTRIES) this.drop(this.cache.keys().next().value as string);
      this.cache.set(hash, { principal, until: Math.min(now + this.ttlMs, expiry) });
      this.byKeyId.set(principal.keyId, hash);
    }
    return principal;
  }

  /** Forget the check of this credential (by its cache key). */
  evict(hash: string): void {
    this.drop(hash);
  }

  /** Auth says this key was revoked or shortened: its next use asks auth again. */
  evictKey(keyId: string): void {
    const hash = this.byKeyId.get(keyId);
    if (hash !== undefined) this.drop(hash);
  }

  private drop(hash: string): void {
    const entry = this.cache.get(hash);
    this.cache.delete(hash);
    if (entry && this.byKeyId.get(entry.principal.keyId) === hash) this.byKeyId.delete(entry.principal.keyId);
  }
}

/** The credential of an `Authorization: Bearer <credential>` header, or the 401 every subject answers with. */
export function parseBearer(header: string | undefined): string {
  if (!header) throw new InvalidCredentialsError('Missing Authorization header (expected "Bearer <api key>")');
  const m = /^Bearer\s+(\S{1,4096})\s*$/i.exec(header);
  if (!m) throw new InvalidCredentialsError('Malformed Authorization header (expected "Bearer <api key>")');
  return m[1];
}

/** What a security event may carry of a credential: what a key listing shows. */
export function credentialDisplayParts(credential: string): { keyPrefix: string; keyLast4: string } {
  return { keyPrefix: credential.slice(0, Math.min(8, Math.max(0, credential.length - 12))), keyLast4: credential.length >= 16 ? credential.slice(-4) : '' };
}
