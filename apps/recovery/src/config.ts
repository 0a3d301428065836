import { baseConfigShape, env, parseConfig, type Env } from '@sb/config';
import { z } from 'zod';

export const recoveryConfigSchema = z.object({ ...baseConfigShape, HTTP_PORT: env.port(8085) });
export type RecoveryConfig = z.output<typeof recoveryConfigSchema>;
export const loadRecoveryConfig = (e: Env) => parseConfig(recoveryConfigSchema, e);
