import { baseConfigShape, tracingConfigShape, env, parseConfig, redisConfigShape, taskConfigShape, type Env } from '@sb/config';
import { z } from 'zod';

export const metricsCollectorConfigSchema = z.object({
  ...baseConfigShape,
  ...tracingConfigShape,
  ...redisConfigShape,
  HTTP_PORT: env.port(8083),
  JETSTREAM_REPLICAS: env.int(1, 1, 5),
  /** The lease agents are told on registration (`leaseMs`): the task queue's ack wait, the same everywhere. */
  TASK_ACK_WAIT_MS: taskConfigShape.TASK_ACK_WAIT_MS,
  /** How long a verified agent key is trusted before auth is asked again (revocations evict at once). */
  AGENT_AUTH_CACHE_TTL_MS: env.int(10_000, 0, 30_000),
  /** An agent is down after this many of its heartbeat intervals without a beat (2.5 → 2.5 s with 1 s beats). */
  LIVENESS_MISSED_BEATS: z.coerce.number().min(1.5).max(20).default(2.5),
  /** How often expired liveness deadlines are claimed. */
  LIVENESS_SWEEP_MS: env.int(100, 20, 5_000),
  /** Heartbeat deadlines are written to Redis in batches at most this old. */
  LIVENESS_FLUSH_MS: env.int(50, 5, 1_000),
  /** Metric series kept per agent; new series beyond it are dropped and counted. */
  COLLECTOR_MAX_SERIES_PER_AGENT: env.int(1_000, 1, 1_000_000),
  /** A down or departed agent's metric series are dropped after this long. */
  COLLECTOR_SERIES_RETENTION_MS: env.int(10 * 60_000, 0, 7 * 24 * 3600_000),
  /** A down agent is forgotten (registry, report history) after this long. */
  COLLECTOR_FORGET_AFTER_MS: env.int(3600_000, 1_000, 30 * 24 * 3600_000),
  /**
   * A departed agent (it deregistered) is forgotten after this long, or after
   * COLLECTOR_FORGET_AFTER_MS when that is shorter: a rolling restart leaves a departed agent per
   * replica, which is worth seeing for a few minutes, not for an hour. Both clocks run from when
   * the agent left or went down as the registry recorded it, so a collector restart does not reset them.
   */
  COLLECTOR_LEFT_RETENTION_MS: env.int(5 * 60_000, 1_000, 30 * 24 * 3600_000),
  /**
   * Agents the fleet holds at most, and agents one agent key may have registered (issue one key
   * per pool and this is a pool's limit). Down and departed agents count until forgotten; at a
   * limit the one gone longest is forgotten to make room; with every agent up, 429 AGENT.LIMIT_REACHED.
   */
  COLLECTOR_MAX_AGENTS: env.int(10_000, 1, 1_000_000),
  COLLECTOR_MAX_AGENTS_PER_KEY: env.int(5_000, 1, 1_000_000),
  /** Largest registration (JSON: capabilities, labels, host, version) an agent may send; larger ones get 413. */
  COLLECTOR_MAX_REGISTRATION_BYTES: env.int(8 * 1024, 512, 64 * 1024),
  /** Period of the derived `sb_fleet_*` samples on the fleet samples subject. */
  FLEET_SAMPLES_MS: env.int(5_000, 100, 600_000),
  /** Window for the fleet error ratio and p95 per capability. */
  FLEET_WINDOW_MS: env.int(5 * 60_000, 10_000, 3600_000),
});
export type MetricsCollectorConfig = z.output<typeof metricsCollectorConfigSchema>;
export const loadMetricsCollectorConfig = (e: Env) => parseConfig(metricsCollectorConfigSchema, e);
