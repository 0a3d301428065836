import { baseConfigShape, tracingConfigShape, env, parseConfig, type Env } from '@sb/config';
import { z } from 'zod';
import { channelsConfigShape } from './channels/channels-config';
import { alertingEngineConfigShape } from './alerting-config';

export const alertingConfigSchema = z.object({ ...baseConfigShape, ...tracingConfigShape, ...channelsConfigShape, ...alertingEngineConfigShape, HTTP_PORT: env.port(8084) });
export type AlertingConfig = z.output<typeof alertingConfigSchema>;
export const loadAlertingConfig = (e: Env) => parseConfig(alertingConfigSchema, e);
