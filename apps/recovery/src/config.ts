import { hostname } from 'node:os';
import { baseConfigShape, tracingConfigShape, env, parseConfig, taskConfigShape, type Env } from '@sb/config';
import { ERROR_CLASSES } from '@sb/contracts';
import { z } from 'zod';

const K8S_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const K8S_LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export const recoveryConfigSchema = z.object({
  ...baseConfigShape,
  ...tracingConfigShape,
  ...taskConfigShape,
  HTTP_PORT: env.port(8085),
  /** This replica's id in the leader lease (default: host and pid). */
  RECOVERY_REPLICA_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1-64 of A-Z a-z 0-9 _ . -').default(`${hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 40)}-${process.pid}`),
  /** Leader lease: a new leader takes over within about this long after the old one dies; renewed every third of it. */
  RECOVERY_LEASE_MS: env.int(5_000, 300, 600_000),
  /** After NAKing a down agent's tasks, when to check that each left the dead agent (else requeue it from its record). */
  RECOVERY_RECLAIM_VERIFY_MS: env.int(1_500, 100, 600_000),
  /** How often the leader looks for queued/running tasks past their deadline and finalises them as timed_out. */
  RECOVERY_SWEEP_INTERVAL_MS: env.int(5_000, 100, 3_600_000),
  /** Restart/replace through a runtime adapter: none, local (the `npm start` launcher's workers), or kubernetes. */
  RECOVERY_RUNTIME: z.enum(['none', 'local', 'kubernetes']).default('none'),
  /** Restarts allowed per agent within RECOVERY_RESTART_WINDOW_MS before recovery stops and raises an alert. */
  RECOVERY_RESTART_BUDGET: env.int(5, 0, 1_000),
  RECOVERY_RESTART_WINDOW_MS: env.int(600_000, 1_000, 86_400_000),
  /** First restart delay; doubles per restart within the window up to RECOVERY_RESTART_BACKOFF_MAX_MS. */
  RECOVERY_RESTART_BACKOFF_MS: env.int(1_000, 0, 3_600_000),
  RECOVERY_RESTART_BACKOFF_MAX_MS: env.int(60_000, 0, 3_600_000),
  /** Kubernetes adapter: namespace of the agent pods (the in-cluster or KUBECONFIG credentials are used). */
  RECOVERY_K8S_NAMESPACE: env.str('default'),
  /** Kubernetes adapter: the fleet's `app.kubernetes.io/instance` label (the fleet spec's metadata.name). */
  RECOVERY_K8S_INSTANCE: z.string().regex(K8S_LABEL_VALUE, 'expected a Kubernetes label value').default('switchboard'),
  /** Kubernetes adapter: the agent pools' Deployments (fleet spec); pods of anything else are never touched. */
  RECOVERY_K8S_AGENT_POOLS: env.csv([]).pipe(z.array(z.string().regex(K8S_NAME, 'expected Deployment names (DNS labels)'))),
  /** Keep resolved incidents this long (KV TTL of the incidents bucket). */
  RECOVERY_INCIDENT_TTL_S: env.int(30 * 24 * 3600, 60, 365 * 24 * 3600),
  // ---- circuit breakers, load shedding, dead letters (docs/resilience.md) ----
  /** Sliding window over which an agent's error rate is measured. */
  BREAKER_WINDOW_MS: env.int(30_000, 1_000, 3_600_000),
  /** Attempts in the window before the error rate may open a breaker. */
  BREAKER_MIN_VOLUME: env.int(10, 1, 1_000_000),
  /** Counted failures / attempts (percent) over the window that open an agent's breaker. */
  BREAKER_ERROR_RATE_PCT: env.int(50, 1, 100),
  /** Consecutive counted failures that open an agent's breaker whatever the volume. */
  BREAKER_CONSECUTIVE_FAILURES: env.int(5, 1, 10_000),
  /** Open → half-open after this; doubles on every failed probe up to BREAKER_MAX_COOLDOWN_MS. */
  BREAKER_COOLDOWN_MS: env.int(15_000, 100, 3_600_000),
  BREAKER_MAX_COOLDOWN_MS: env.int(300_000, 100, 86_400_000),
  /** Probe tasks a half-open breaker lets through; that many successes close it. */
  BREAKER_HALF_OPEN_PROBES: env.int(1, 1, 1_000),
  /** Failure classes that count against an agent (agent_error, timeout, dependency, rate_limited, worker_lost). */
  BREAKER_COUNT: env.csv(['agent_error', 'timeout']).pipe(z.array(z.enum(ERROR_CLASSES)).min(1)),
  /** An agent breaker with no outcome for this long is forgotten. */
  BREAKER_STALE_MS: env.int(600_000, 1_000, 86_400_000),
  BREAKER_TICK_MS: env.int(250, 10, 60_000),
  /** Load shedding: how often the leader reads queue depth and capacity. */
  SHED_TICK_MS: env.int(1_000, 50, 60_000),
  /** Queued tasks beyond free healthy slots at which `low` is shed. */
  SHED_LOW_DEFICIT: env.int(200, 1, 100_000_000),
  /** ... and at which `normal` is shed too (high always flows). */
  SHED_NORMAL_DEFICIT: env.int(1_000, 1, 100_000_000),
  /** Queued tasks of a capability at which low and normal are shed regardless of capacity. */
  SHED_BACKLOG_LIMIT: env.int(10_000, 1, 100_000_000),
  /** Hysteresis: a level clears once the reading stays under its thresholds × this percent for SHED_CLEAR_HOLD_MS. */
  SHED_CLEAR_RATIO_PCT: env.int(50, 1, 100),
  SHED_CLEAR_HOLD_MS: env.int(10_000, 0, 3_600_000),
  /** Retry-After (seconds) on a shed submission. */
  SHED_RETRY_AFTER_S: env.int(5, 1, 3_600),
  /** An agent whose last heartbeat is older than this adds no capacity. */
  SHED_AGENT_DOWN_AFTER_MS: env.int(3_000, 100, 600_000),
  /** Poison task: the same fingerprint dead-lettering this often within DLQ_POISON_WINDOW_MS raises an alert. */
  DLQ_POISON_THRESHOLD: env.int(3, 1, 1_000_000),
  DLQ_POISON_WINDOW_MS: env.int(3_600_000, 1_000, 30 * 86_400_000),
  /** Most dead letters one list/inspect/tenant purge reads. */
  DLQ_SCAN_MAX: env.int(50_000, 100, 10_000_000),
  /** Redrives one task may have; past it a redrive is refused with 409 RECOVERY.REDRIVE_LIMIT. */
  DLQ_REDRIVE_MAX: env.int(3, 0, 1_000),
}).superRefine((c, ctx) => {
  // The Kubernetes adapter acts only on pods of declared pools: with none, it could do nothing right.
  if (c.RECOVERY_RUNTIME === 'kubernetes' && c.RECOVERY_K8S_AGENT_POOLS.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['RECOVERY_K8S_AGENT_POOLS'], message: 'required with RECOVERY_RUNTIME=kubernetes: the agent pools’ Deployment names (sb manifests sets it from the fleet spec)' });
  }
});
export type RecoveryConfig = z.output<typeof recoveryConfigSchema>;
export const loadRecoveryConfig = (e: Env) => parseConfig(recoveryConfigSchema, e);
