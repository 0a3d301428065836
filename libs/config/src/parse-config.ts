/**
 * Typed configuration from environment variables, parsed once at boot. A missing or bad
 * variable stops startup with the variable's name in the message. Nothing else reads process.env.
 */
import { z } from 'zod';
import { redisSentinelProblems, redisSentinelShape } from './redis-config';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export function parseConfig<S extends z.ZodObject>(schema: S, env: Env): z.output<S> {
  // Empty strings mean "unset" so that `FOO=` in a compose file falls back to the default.
  const cleaned: Env = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') cleaned[key] = v;
  }
  const parsed = schema.safeParse(cleaned);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  problems.push(...crossFieldProblems(schema.shape, cleaned));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return parsed.data;
}

/** Rules that span variables, each applied when the schema holds its variable (zod sees one at a time here). */
function crossFieldProblems(shape: Record<string, unknown>, cleaned: Env): string[] {
  return 'REDIS_SENTINELS' in shape ? redisSentinelProblems(cleaned) : [];
}

/** Env helpers: every value arrives as a string. */
export const env = {
  int: (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def),
  port: (def: number) => z.coerce.number().int().min(0).max(65535).default(def),
  bool: (def: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true|false' })
      .default(def ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  csv: (def: string[]) =>
    z
      .string()
      .default(def.join(','))
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
  url: (def: string, protocols: string[]) =>
    z
      .string()
      .default(def)
      .refine((v) => v.split(',').every((u) => protocols.some((p) => u.trim().startsWith(`${p}://`))), {
        message: `expected ${protocols.map((p) => `${p}://`).join(' or ')} URL(s)`,
      }),
  str: (def: string) => z.string().default(def),
};

/** What every service shares. */
export const baseConfigShape = {
  NATS_URL: env.url('nats://127.0.0.1:4222', ['nats', 'tls']),
  /** The service's NATS credentials (a `.creds` file); absent: the server has no auth (development only). */
  NATS_CREDS: z.string().min(1).optional(),
  SB_PREFIX: z.string().regex(/^[a-z][a-z0-9]{0,15}$/, 'expected 1-16 lowercase letters/digits').default('sb'),
  HTTP_HOST: env.str('0.0.0.0'),
  HTTP_PORT: env.port(8080),
  /** Health and /metrics on this port only (see libs/observability ops-port.ts); unset: on HTTP_PORT. */
  OPS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  SHUTDOWN_GRACE_MS: env.int(10_000, 0, 600_000),
  REQUEST_TIMEOUT_MS: env.int(5_000, 10, 120_000),
};
/**
 * Redis for the services that use it: REDIS_URL alone, or Sentinel mode (redis-config.ts), where
 * REDIS_URL supplies only the credentials, database and TLS (`rediss://`) of the master.
 */
export const redisConfigShape = {
  REDIS_URL: env.url('redis://127.0.0.1:6379', ['redis', 'rediss']),
  ...redisSentinelShape,
};
export type RedisConfig = z.output<z.ZodObject<typeof redisConfigShape>>;
export const baseConfigSchema = z.object(baseConfigShape);
export type BaseConfig = z.output<typeof baseConfigSchema>;

/** For main.ts: a bad configuration prints its problems and stops the process (exit code 78, EX_CONFIG). */
export function exitOnConfigError<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${service}: ${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
}

/** Task storage settings: shared by every service that opens the task streams and buckets, so they agree. */
export const taskConfigShape = {
  TASK_RECORD_TTL_S: env.int(7 * 24 * 3600, 60, 365 * 24 * 3600),
  IDEMPOTENCY_TTL_S: env.int(24 * 3600, 60, 30 * 24 * 3600),
  JETSTREAM_REPLICAS: env.int(1, 1, 5),
  /** The server redelivers a task whose holder stops acknowledging for this long (the queue consumers' ack wait, an agent's lease); running tasks send keep-alives. */
  TASK_ACK_WAIT_MS: env.int(30_000, 1_000, 3_600_000),
  /** Attempts per task (first run included) before it is dead-lettered. */
  TASK_MAX_ATTEMPTS: env.int(3, 1, 100),
  TASK_BACKOFF_BASE_MS: env.int(1_000, 0, 3_600_000),
  TASK_BACKOFF_MAX_MS: env.int(30_000, 0, 3_600_000),
};

/**
 * Tracing settings, shared by every service (spread into each app's schema). The OTEL_* names
 * are the OpenTelemetry standard ones; only the endpoint and the sampler ratio are read.
 */
export const tracingConfigShape = {
  /** false: no spans at all (traceparent is still carried so logs and records correlate). */
  TRACING_ENABLED: env.bool(true),
  /** Ratio of new traces sampled (0..1), parent-based: a sampled caller's trace is always kept. */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
  /** OTLP/HTTP collector base URL (spans go to `<url>/v1/traces`); unset = no OTLP export. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .string()
    .refine((v) => /^https?:\/\//.test(v), { message: 'expected an http:// or https:// URL' })
    .optional(),
  /** Keep spans in the JetStream span stream for GET /v1/tasks/:id/trace. */
  TRACE_SPANS_STREAM: env.bool(true),
  /** How often batched spans are exported (ms). */
  TRACE_EXPORT_DELAY_MS: env.int(1_000, 10, 60_000),
  /** Span stream retention: age (seconds) and size (bytes); the oldest spans go first. */
  TRACE_SPANS_MAX_AGE_S: env.int(24 * 3600, 60, 30 * 24 * 3600),
  TRACE_SPANS_MAX_BYTES: env.int(256 * 1024 * 1024, 1024 * 1024, Number.MAX_SAFE_INTEGER),
};
export type TracingConfig = z.output<z.ZodObject<typeof tracingConfigShape>>;
