import { baseConfigShape, env, parseConfig, type Env } from '@sb/config';
import { z } from 'zod';

export const metricsCollectorConfigSchema = z.object({ ...baseConfigShape, HTTP_PORT: env.port(8083) });
export type MetricsCollectorConfig = z.output<typeof metricsCollectorConfigSchema>;
export const loadMetricsCollectorConfig = (e: Env) => parseConfig(metricsCollectorConfigSchema, e);
