import { baseConfigShape, tracingConfigShape, env, parseConfig, redisConfigShape, type Env } from '@sb/config';
import { z } from 'zod';

export const tenancyConfigSchema = z.object({
  ...baseConfigShape,
  ...tracingConfigShape,
  ...redisConfigShape,
  HTTP_PORT: env.port(8082),
  JETSTREAM_REPLICAS: env.int(1, 1, 5),
});
export type TenancyConfig = z.output<typeof tenancyConfigSchema>;
export const loadTenancyConfig = (e: Env) => parseConfig(tenancyConfigSchema, e);
