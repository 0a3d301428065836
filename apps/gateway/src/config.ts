import { baseConfigShape, tracingConfigShape, env, parseConfig, redisConfigShape, taskConfigShape, type Env } from '@sb/config';
import { z } from 'zod';

export const gatewayConfigSchema = z.object({
  ...baseConfigShape,
  ...tracingConfigShape,
  ...redisConfigShape,
  ...taskConfigShape,
  HTTP_PORT: env.port(8080),
  /** Largest accepted task input, serialised. */
  MAX_INPUT_BYTES: env.int(256 * 1024, 1, 900 * 1024),
  /** How long a verified credential is trusted locally; revocations are pushed and evict at once. */
  AUTH_CACHE_TTL_MS: env.int(5_000, 0, 300_000),
  /** The `iss` access tokens must carry (auth's JWT_ISSUER). */
  JWT_ISSUER: env.str('switchboard'),
  /** How long an admitted tenant is admitted without asking tenancy again; tenant changes evict at once. */
  ADMISSION_CACHE_TTL_MS: env.int(5_000, 0, 300_000),
  /** Ceiling on any tenant's submissions per second (plans set the actual rate; GCRA in Redis, exact across replicas). */
  TENANT_SUBMIT_RATE: env.int(1_000, 1, 1_000_000),
  /** Ceiling on any tenant's burst (plans set the actual burst). */
  TENANT_SUBMIT_BURST: env.int(2_000, 1, 10_000_000),
  /** How many gateway replicas run: while Redis is down each enforces 1/N of every rate limit in-process. */
  GATEWAY_REPLICAS: env.int(1, 1, 1_000),
  /** Open task-event (SSE) streams one gateway serves at most; more get 503 + Retry-After. */
  SSE_MAX_STREAMS: env.int(1_000, 1, 100_000),
  /** Comment line sent on an idle event stream so proxies keep it open. */
  SSE_KEEPALIVE_MS: env.int(15_000, 1_000, 300_000),
  /** Refuse submissions fast (503 + Retry-After) while recovery says a capability's breaker is open or its load is shed. */
  INTAKE_GUARD: env.bool(true),
  /** Submissions one gateway admits per half-open period of a capability breaker (they become the probes). */
  INTAKE_HALF_OPEN_ADMITS: env.int(2, 1, 10_000),
  /** An open breaker this long past its retry time no longer refuses (fail open when no leader updates it). */
  INTAKE_BREAKER_STALE_MS: env.int(30_000, 0, 3_600_000),
  /** How often the dispatcher sends its agents' attempt outcomes to recovery's breakers (one small message per agent, none while idle). */
  DISPATCH_OUTCOME_FLUSH_MS: env.int(250, 10, 60_000),
});
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export const loadGatewayConfig = (e: Env) => parseConfig(gatewayConfigSchema, e);
