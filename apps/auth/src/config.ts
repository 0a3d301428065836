import { baseConfigShape, env, parseConfig, type Env } from '@sb/config';
import { z } from 'zod';

export const authConfigSchema = z.object({
  ...baseConfigShape,
  HTTP_PORT: env.port(8081),
  /** The bootstrap admin key. When unset, one is generated and printed once on first start. */
  SB_BOOTSTRAP_ADMIN_KEY: z.string().min(16, 'must be at least 16 characters').max(256).optional(),
  JETSTREAM_REPLICAS: env.int(1, 1, 5),
});
export type AuthConfig = z.output<typeof authConfigSchema>;
export const loadAuthConfig = (e: Env) => parseConfig(authConfigSchema, e);
