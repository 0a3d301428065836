import { hostname } from 'node:os';
import { baseConfigShape, env, parseConfig, taskConfigShape, type Env } from '@sb/config';
import { z } from 'zod';

export const workerConfigSchema = z.object({
  ...baseConfigShape,
  ...taskConfigShape,
  HTTP_PORT: env.port(8086),
  WORKER_ID: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 of A-Z a-z 0-9 _ -').default(`${hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}-${process.pid}`),
  /** Agents this worker hosts (see the agent catalog). */
  WORKER_AGENTS: env.csv(['echo', 'code-analysis']),
  /** Adds the chaos/test agents `sleep` and `flaky`. */
  WORKER_TEST_AGENTS: env.bool(false),
  /** Tasks run at once by this worker. */
  WORKER_CONCURRENCY: env.int(16, 1, 4096),
  /** How often an idle worker looks for work besides the enqueue hints (redeliveries after backoff arrive without one). */
  WORKER_IDLE_POLL_MS: env.int(250, 10, 60_000),
  /** The server redelivers a task whose worker stops acknowledging for this long; running tasks send keep-alives. */
  TASK_ACK_WAIT_MS: env.int(30_000, 1_000, 3_600_000),
  /** Attempts per task (first run included) before it is dead-lettered. */
  TASK_MAX_ATTEMPTS: env.int(3, 1, 100),
  TASK_BACKOFF_BASE_MS: env.int(1_000, 0, 3_600_000),
  TASK_BACKOFF_MAX_MS: env.int(30_000, 0, 3_600_000),
  /** Start a task only with one of its tenant's concurrent-task slots from tenancy (leases of TASK_ACK_WAIT_MS). */
  WORKER_TENANT_SLOTS: env.bool(true),
});
export type WorkerConfig = z.output<typeof workerConfigSchema>;
export const loadWorkerConfig = (e: Env) => parseConfig(workerConfigSchema, e);
