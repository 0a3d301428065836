import { hostname } from 'node:os';
import { baseConfigShape, env, parseConfig, type Env } from '@sb/config';
import { z } from 'zod';

export const workerConfigSchema = z.object({
  ...baseConfigShape,
  HTTP_PORT: env.port(8086),
  WORKER_ID: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 of A-Z a-z 0-9 _ -').default(`${hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}-${process.pid}`),
  /** The API key (scope `agent`) this worker registers with: it is an agent like any other. */
  SB_AGENT_KEY: z.string({ error: 'SB_AGENT_KEY is required: an API key with the agent scope (see the README, "Agents")' }).min(16, 'SB_AGENT_KEY looks truncated'),
  /** Agents this worker hosts (see the agent catalog). */
  WORKER_AGENTS: env.csv(['echo', 'code-analysis']),
  /** Adds the chaos/test agents `sleep` and `flaky`. */
  WORKER_TEST_AGENTS: env.bool(false),
  /** Tasks run at once by this worker. */
  WORKER_CONCURRENCY: env.int(16, 1, 4096),
  /** How long a `take` waits for work before asking again. */
  WORKER_TAKE_WAIT_MS: env.int(5_000, 100, 30_000),
  /** Heartbeat period; the collector declares the worker down after LIVENESS_MISSED_BEATS of them. */
  AGENT_HEARTBEAT_MS: env.int(1_000, 100, 60_000),
  /** Period of the worker's metric batches to the collector. */
  AGENT_METRICS_MS: env.int(5_000, 100, 600_000),
  /** Heartbeats (sent from their own thread) stop when the main event loop has not turned for this long: hung, not busy. */
  AGENT_STALL_MS: env.int(30_000, 1_000, 3_600_000),
  /** Labels this worker registers with, e.g. `zone=a,pool=gpu`. */
  WORKER_LABELS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const out: Record<string, string> = {};
      for (const pair of v.split(',').map((s) => s.trim()).filter(Boolean)) {
        const i = pair.indexOf('=');
        const k = i > 0 ? pair.slice(0, i).trim() : '';
        if (!/^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/.test(k) || pair.length - i - 1 > 256) {
          ctx.addIssue({ code: 'custom', message: `expected name=value pairs separated by commas (got "${pair}")` });
          return z.NEVER;
        }
        out[k] = pair.slice(i + 1).trim();
      }
      return out;
    }),
});
export type WorkerConfig = z.output<typeof workerConfigSchema>;
export const loadWorkerConfig = (e: Env) => parseConfig(workerConfigSchema, e);
