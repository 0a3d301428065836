/** `POST /v1/nats/credentials` and auth's internal endpoints behind it (see nats-access.ts for what each role reaches). */
import { z } from 'zod';
import { AgentIdSchema } from './fleet-schemas';
import { NATS_ROLES } from './nats-access';
import { SCOPES, TenantIdSchema } from './schemas';

/** Credentials last this long unless asked for less (and never longer than the API key). */
export const NATS_CREDS_DEFAULT_TTL_S = 24 * 3600;
export const NATS_CREDS_MAX_TTL_S = 30 * 24 * 3600;

/** The public body: `{}` (a tenant credential), `{"role":"agent","agentId":...}`, `{"role":"subscriber"}`. */
export const NatsCredentialsBodySchema = z
  .strictObject({
    role: z.enum(NATS_ROLES).default('tenant'),
    /** role agent: the one agent id it may speak as; absent: any id (a pool credential, the agent key binds the rest). */
    agentId: AgentIdSchema.optional(),
    /** role agent: the pool it is for (recorded on the credential). */
    pool: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'pool must be 1-63 lowercase letters, digits or -').optional(),
    ttlSeconds: z.number().int().min(60).max(NATS_CREDS_MAX_TTL_S).optional(),
  })
  .refine((b) => b.role === 'agent' || (b.agentId === undefined && b.pool === undefined), { message: 'agentId and pool apply to role "agent" only' });
export type NatsCredentialsBody = z.infer<typeof NatsCredentialsBodySchema>;

/** Gateway → auth: the body, and who asked (the authenticated key). */
export const NatsCredentialsRequestSchema = z.strictObject({
  role: z.enum(NATS_ROLES),
  agentId: AgentIdSchema.optional(),
  pool: z.string().max(63).optional(),
  ttlSeconds: z.number().int().min(60).max(NATS_CREDS_MAX_TTL_S).optional(),
  keyId: z.string().min(1).max(128),
  tenantId: TenantIdSchema,
  scopes: z.array(z.enum(SCOPES)).max(SCOPES.length),
  /** The key's own expiry: the credential never outlives it. */
  keyExpiresAt: z.string().datetime().nullish(),
});
export type NatsCredentialsRequest = z.infer<typeof NatsCredentialsRequestSchema>;

export interface NatsCredentials {
  /** The `.creds` file: user JWT + nkey seed. */
  creds: string;
  /** Subscribe-able inbox prefix the client must use (`inboxPrefix` in nats.js, `--inbox-prefix` in the nats CLI). */
  inboxPrefix: string;
  expiresAt: string;
  userPublicKey: string;
  role: (typeof NATS_ROLES)[number];
}

export const NatsAccountRequestSchema = z.strictObject({ account: z.string().regex(/^A[A-Z2-7]{55}$/, 'a NATS account public key') });
export interface NatsAccountOwner {
  /** The tenant whose account it is; null: not a tenant account Switchboard made. */
  tenantId: string | null;
}
