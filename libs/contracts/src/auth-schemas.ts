/**
 * Auth payloads beyond issue/list/revoke: key rotation, access tokens (JWT), the signing key
 * set, key invalidation notices and security events with their report.
 */
import { z } from 'zod';
import { type ApiKeyView, type CreatedKey, KeyActorSchema, KeyDigestSchema, MintedKeySchema } from './schemas';

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'id must be 1-64 characters of A-Z a-z 0-9 _ -');

export const MAX_OVERLAP_SECONDS = 7 * 24 * 3600;
export const RotateKeyBodySchema = z
  .object({ overlapSeconds: z.number().int().min(0).max(MAX_OVERLAP_SECONDS).default(3600) })
  .strict();
export const RotateKeyRequestSchema = RotateKeyBodySchema.extend({ id, by: KeyActorSchema, minted: MintedKeySchema });
export type RotateKeyRequest = z.infer<typeof RotateKeyRequestSchema>;
export interface RotatedKey extends CreatedKey {
  /** The key that was rotated, with its new `expiresAt` (end of the overlap window). */
  previous: ApiKeyView;
}
/** Auth's reply to a rotation: the new key's record (the edge minted the key and adds it), and the previous one. */
export type RotatedKeyRecord = Omit<RotatedKey, 'key'>;

export const JWT_AUDIENCE = 'switchboard-api';
export const JWT_ALGORITHM = 'ES256';
export const MIN_TOKEN_TTL_S = 60;
export const MAX_TOKEN_TTL_S = 3600;
export const TokenBodySchema = z.object({ ttlSeconds: z.number().int().min(MIN_TOKEN_TTL_S).max(MAX_TOKEN_TTL_S).default(900) }).strict();
/** The key's SHA-256, never the key (KeyDigestSchema). */
export const IssueTokenRequestSchema = TokenBodySchema.extend({ keyDigest: KeyDigestSchema });
export type IssueTokenRequest = z.infer<typeof IssueTokenRequestSchema>;
export interface IssuedToken {
  token: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/** A public JWK (EC P-256) as served in the JWKS. */
export interface PublicJwk {
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
  kid: string;
  alg: string;
  use: 'sig';
}
export interface Jwks {
  keys: PublicJwk[];
}
export const EmptyRequestSchema = z.object({});

/**
 * Broadcast on `internal.keyRevoked` when a key stops being valid: revoked (`revokedAt`) or
 * given an earlier expiry by rotation (`expiresAt`). `keyId` evicts cached API-key checks of
 * that key and lets gateways refuse access tokens minted from it. (No hash of the key: the
 * notice goes to every subscriber.)
 */
export interface KeyInvalidation {
  keyId: string;
  revokedAt?: string | null;
  expiresAt?: string | null;
}
export interface KeyInvalidationList {
  keys: Array<{ keyId: string; notAfter: string }>;
}

// ---- security events ----------------------------------------------------------------------

export const SECURITY_EVENT_TYPES = [
  'invalid_credentials',
  'invalid_token',
  'revoked_key',
  'expired_key',
  'forbidden',
  'cross_tenant',
  'rate_limited',
  /** An agent asked for something that is not its own (agent protocol: another's lease, a stale epoch, a capability it did not register). */
  'agent_refused',
] as const;
export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

/** Never carries a secret: only a key's id or its display prefix/last4. */
export const SecurityEventSchema = z.object({
  type: z.enum(SECURITY_EVENT_TYPES),
  at: z.string(),
  transport: z.enum(['http', 'nats', 'internal']),
  /** HTTP `METHOD /route` or the NATS subject. */
  route: z.string().max(256).optional(),
  tenantId: z.string().max(64).optional(),
  keyId: z.string().max(64).optional(),
  keyPrefix: z.string().max(16).optional(),
  keyLast4: z.string().max(4).optional(),
  /** The agent that asked (agent protocol refusals). */
  agentId: z.string().max(64).optional(),
  /** e.g. the failed check: `alg`, `aud`, `exp`, `kid`, `revoked`, the missing scope, the addressed tenant. */
  reason: z.string().max(128).optional(),
  /** Who asked, as the gateway saw it: `ip:<client address>` (HTTP) or `nats:<account or connection>`. */
  source: z.string().max(160).optional(),
  /** How many refusals this event stands for: alike ones are aggregated per second (absent: 1). */
  count: z.number().int().min(1).optional(),
  /** With `count`: when the last of them happened (`at` is the first). */
  lastAt: z.string().optional(),
});
export type SecurityEvent = z.infer<typeof SecurityEventSchema>;

/** Stream and subjects of the security events (`<PREFIX>_SECURITY_EVENTS`, `<prefix>.security.events.<type>`). */
export function securityEventNames(prefix: string) {
  const up = prefix.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return {
    stream: `${up}_SECURITY_EVENTS`,
    subject: (type: SecurityEventType) => `${prefix}.security.events.${type}`,
    all: `${prefix}.security.events.>`,
  };
}

export const SecurityReportQuerySchema = z.object({ hours: z.coerce.number().int().min(1).max(168).default(24) }).strict();
export interface SecurityReport {
  from: string;
  to: string;
  total: number;
  byType: Partial<Record<SecurityEventType, number>>;
  byTenant: Record<string, number>;
  topKeys: Array<{ key: string; keyId?: string; keyPrefix?: string; keyLast4?: string; count: number }>;
}


/** What a key listing shows: the stored view plus when the key was last used (minute precision). */
export interface ApiKeyListing extends ApiKeyView {
  lastUsedAt: string | null;
}
