import { baseConfigShape, ConfigError, tracingConfigShape, env, parseConfig, type Env } from '@sb/config';
import { API_KEY_FORMAT, isWellFormedApiKey } from '@sb/contracts';
import { z } from 'zod';
import { type Kek, loadKek } from './secrets/sealed-box';

/** A configured key has the generated keys' format and entropy (`node dist/scripts/new-api-key.js` makes one). */
const bootstrapKey = z.string().refine(isWellFormedApiKey, {
  message: `must be an API key of the generated format, ${API_KEY_FORMAT}: generate one with \`node dist/scripts/new-api-key.js\``,
});

export const authConfigSchema = z.object({
  ...baseConfigShape,
  ...tracingConfigShape,
  HTTP_PORT: env.port(8081),
  /**
   * The bootstrap admin key (a system key holding the platform `admin` scope). Changing it
   * revokes the key it named. When unset, one is generated and printed once on first start.
   */
  SB_BOOTSTRAP_ADMIN_KEY: bootstrapKey.optional(),
  /**
   * The bootstrap agent key: a system-tenant key holding `agent`, for agents to register with
   * (agent protocol v1). Changing or removing it revokes the key it named. Unset: none.
   */
  SB_BOOTSTRAP_AGENT_KEY: bootstrapKey.optional(),
  /** The key-encryption key sealing auth's secrets at rest: base64 of 32 random bytes. Or: */
  SB_KEK: z.string().optional(),
  /** a file holding it (a mounted Secret). Required when NODE_ENV=production. */
  SB_KEK_FILE: z.string().min(1).optional(),
  /** `production` makes a KEK mandatory. */
  NODE_ENV: z.string().optional(),
  JETSTREAM_REPLICAS: env.int(1, 1, 5),
  /** `iss` of the access tokens auth signs (gateways check it). */
  JWT_ISSUER: env.str('switchboard'),
  /** A new ES256 signing key every this many seconds; the previous one stays in the JWKS until its tokens expired. */
  JWT_SIGNING_KEY_ROTATION_S: env.int(86_400, 60, 365 * 86_400),
  /** At most one `lastUsedAt` write per key per this many milliseconds. */
  KEY_USAGE_WRITE_INTERVAL_MS: env.int(60_000, 0, 3_600_000),
  /** The deployment's NATS signing secrets (`sb nats init`): enables NATS credentials. Unset: the NATS server has no auth. */
  SB_NATS_AUTH_FILE: z.string().min(1).optional(),
  /** Connections and subscriptions one tenant's NATS account may hold at once (every server enforces them). */
  NATS_TENANT_MAX_CONNECTIONS: env.int(256, 1, 1_000_000),
  NATS_TENANT_MAX_SUBSCRIPTIONS: env.int(10_000, 1, 10_000_000),
});
/** The parsed settings, and the KEK they name (read once here; undefined: secrets stay unsealed, development only). */
export type AuthConfig = z.output<typeof authConfigSchema> & { kek: Kek | undefined };

export function loadAuthConfig(e: Env): AuthConfig {
  const parsed = parseConfig(authConfigSchema, e);
  const kek = loadKek(parsed);
  if (!kek && parsed.NODE_ENV === 'production') {
    throw new ConfigError([
      'SB_KEK_FILE or SB_KEK: required when NODE_ENV=production: the key-encryption key sealing the signing keys at rest ' +
        '(32 random bytes, base64, e.g. `openssl rand -base64 32`; mount it from a Secret and set SB_KEK_FILE to its path)',
    ]);
  }
  // The KEK's bytes are kept in `kek` only (not serialisable), not in the raw setting.
  return { ...parsed, SB_KEK: undefined, kek };
}
