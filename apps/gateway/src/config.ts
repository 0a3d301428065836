import { baseConfigShape, tracingConfigShape, env, parseConfig, redisConfigShape, taskConfigShape, type Env } from '@sb/config';
import { z } from 'zod';

export const gatewayConfigSchema = z.object({
  ...baseConfigShape,
  ...tracingConfigShape,
  ...redisConfigShape,
  ...taskConfigShape,
  HTTP_PORT: env.port(8080),
  /** Health and metrics, for probes and Prometheus only (never publish it); the API port answers them 404. */
  OPS_PORT: env.port(8090),
  /**
   * A task's `running` record is written once its run has lasted this long (or at its first
   * progress, failure or timeout); a task done sooner goes from `queued` to its outcome in one
   * write, which still names its lease, agent and start. Its `running` event goes out when the
   * agent gets it either way. So a record read in a run's first moments may still say `queued`
   * for up to this long. 0 (the default): written before the agent gets it. Off by default: a
   * record that says `running` as soon as the agent has the task is what the chaos suite's fencing
   * scenario checks, and what a reader of the record expects.
   */
  TASK_RUNNING_RECORD_MS: env.int(0, 0, 60_000),
  /** Largest accepted task input, serialised. */
  MAX_INPUT_BYTES: env.int(256 * 1024, 1, 900 * 1024),
  /** How long a verified credential is trusted locally; revocations are pushed and evict at once. */
  AUTH_CACHE_TTL_MS: env.int(5_000, 0, 300_000),
  /**
   * Requests a second one client (address, or NATS account/connection) may spend on credentials
   * that do not authenticate, and their burst; beyond them 429 before any key lookup. A request
   * that authenticates gives its token back. 0 turns the limit off.
   */
  PREAUTH_RATE: env.int(10, 0, 1_000_000),
  PREAUTH_BURST: env.int(50, 1, 10_000_000),
  /** Proxies in front of the gateway that append to X-Forwarded-For (0: the client is the socket's peer). */
  TRUSTED_PROXY_HOPS: env.int(0, 0, 10),
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
  /** Open task-event streams one API key may hold on one gateway; more get 429 + Retry-After. */
  SSE_MAX_STREAMS_PER_KEY: env.int(8, 1, 100_000),
  /** Requests one API key may have waiting for a task on one gateway (submit with `wait`, GET /wait); more get 429. */
  WAIT_MAX_PER_KEY: env.int(32, 1, 1_000_000),
  /** Requests waiting for a task on one gateway, all keys; more get 503 + Retry-After. */
  WAIT_MAX: env.int(10_000, 1, 1_000_000),
  /** Reads (GET routes, sb.v1.tasks.get|list) per API key per second and their burst (GCRA in Redis, exact across replicas). */
  KEY_READ_RATE: env.int(100, 1, 1_000_000),
  KEY_READ_BURST: env.int(200, 1, 10_000_000),
  /** Task records one list call (GET /v1/tasks, sb.v1.tasks.list) reads at most; the page then ends with a cursor. */
  TASK_LIST_SCAN_MAX: env.int(1_000, 1, 100_000),
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
