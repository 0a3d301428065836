import { baseConfigShape, env, parseConfig, type Env } from '@sb/config';
import { z } from 'zod';

export const alertingConfigSchema = z.object({ ...baseConfigShape, HTTP_PORT: env.port(8084) });
export type AlertingConfig = z.output<typeof alertingConfigSchema>;
export const loadAlertingConfig = (e: Env) => parseConfig(alertingConfigSchema, e);
