import { baseConfigShape, tracingConfigShape, env, parseConfig, type Env } from '@sb/config';
import { z } from 'zod';

export const authConfigSchema = z.object({
  ...baseConfigShape,
  ...tracingConfigShape,
  HTTP_PORT: env.port(8081),
  /** The bootstrap admin key. When unset, one is generated and printed once on first start. */
  SB_BOOTSTRAP_ADMIN_KEY: z.string().min(16, 'must be at least 16 characters').max(256).optional(),
  /**
   * The bootstrap agent key: a system-tenant key holding `agent`, for agents to register with
   * (agent protocol v1). Changing or removing it revokes the key it named. Unset: none.
   */
  SB_BOOTSTRAP_AGENT_KEY: z.string().min(16, 'must be at least 16 characters').max(256).optional(),
  JETSTREAM_REPLICAS: env.int(1, 1, 5),
  /** `iss` of the access tokens auth signs (gateways check it). */
  JWT_ISSUER: env.str('switchboard'),
  /** A new ES256 signing key every this many seconds; the previous one stays in the JWKS until its tokens expired. */
  JWT_SIGNING_KEY_ROTATION_S: env.int(86_400, 60, 365 * 86_400),
  /** At most one `lastUsedAt` write per key per this many milliseconds. */
  KEY_USAGE_WRITE_INTERVAL_MS: env.int(60_000, 0, 3_600_000),
});
export type AuthConfig = z.output<typeof authConfigSchema>;
export const loadAuthConfig = (e: Env) => parseConfig(authConfigSchema, e);
