/**
 * The bundled worker is an agent like any user's: it runs its agents with the SDK
 * (`runAgents`, agent protocol v1) and nothing else. It holds no connection to the control
 * plane's internals: it registers with its `agent` key, beats, takes leased tasks, and reports
 * outcomes; the control plane stores them. On shutdown the runner drains within the grace
 * period and deregisters. Its own HTTP side serves health and its task metrics.
 */
import { readFileSync } from 'node:fs';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { type Logger, type Runner, runAgents, type TaskEnd } from '@switchboard/agent-sdk';
import { APP_CONFIG, type AppLogger, LOGGER, ReadinessRegistry, ServiceMetrics } from '@sb/observability';
import { agentsFromConfig } from '../agents/agent-catalog';
import type { WorkerConfig } from '../config';
import { packageVersion } from './package-version';

@Injectable()
export class AgentHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private runner?: Runner;

  /** Resolves once the worker is registered and taking tasks (the runner's own `ready`). */
  get ready(): Promise<void> {
    return this.runner?.ready ?? Promise.reject(new Error('the agent worker has not started'));
  }

  constructor(
    @Inject(APP_CONFIG) private readonly config: WorkerConfig,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const c = this.config;
    const agents = agentsFromConfig(c.WORKER_AGENTS, { testAgents: c.WORKER_TEST_AGENTS });
    const runner = await runAgents({
      nats: { servers: c.NATS_URL.split(',').map((u) => u.trim()), name: `agent-worker-${c.WORKER_ID}`, reconnectTimeWait: 250 },
      // An agent's own NATS user (role agent): the agent protocol for its id, with a private inbox.
      natsCreds: c.NATS_CREDS ? readFileSync(c.NATS_CREDS, 'utf8') : undefined,
      prefix: c.SB_PREFIX,
      agentId: c.WORKER_ID,
      credentials: c.SB_AGENT_KEY,
      agents,
      concurrency: c.WORKER_CONCURRENCY,
      heartbeatMs: c.AGENT_HEARTBEAT_MS,
      metricsMs: c.AGENT_METRICS_MS,
      stallMs: c.AGENT_STALL_MS,
      takeWaitMs: c.WORKER_TAKE_WAIT_MS,
      requestTimeoutMs: c.REQUEST_TIMEOUT_MS,
      shutdownGraceMs: c.SHUTDOWN_GRACE_MS,
      version: `agent-worker/${packageVersion()}`,
      labels: c.WORKER_LABELS,
      // Nest owns the signals: SIGTERM closes the app, which stops the runner (beforeApplicationShutdown).
      handleSignals: false,
      logger: sdkLogger(this.logger),
      onTaskEnd: taskMetrics(this.metrics),
    });
    this.runner = runner;
    let registered = false;
    this.readiness.register({
      name: 'agent',
      check: async () => {
        if (!registered) throw new Error('not registered yet');
        return { agentId: runner.agentId, inFlight: runner.inFlight, heartbeats: runner.heartbeatMode };
      },
    });
    void runner.ready.then(
      () => {
        registered = true;
        this.logger.info({ workerId: runner.agentId, agents: agents.map((a) => a.name), concurrency: c.WORKER_CONCURRENCY }, 'worker taking tasks');
      },
      () => undefined, // stopped before it registered
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
  }
}

/** The SDK's logger interface over the service's pino logger. */
function sdkLogger(l: AppLogger): Logger {
  return {
    info: (m, f) => l.info(f ?? {}, m),
    warn: (m, f) => l.warn(f ?? {}, m),
    error: (m, f) => l.error(f ?? {}, m),
  };
}

/** The worker's own /metrics: attempts and their durations by capability and outcome. */
function taskMetrics(m: ServiceMetrics): (e: TaskEnd) => void {
  const duration = m.histogram('sb_worker_task_duration_seconds', 'Time an agent spent on a task, by capability and outcome', ['capability', 'outcome']);
  const total = m.counter('sb_worker_tasks_total', 'Tasks taken by this worker, by capability and outcome', ['capability', 'outcome']);
  return (e) => {
    duration.observe({ capability: e.capability, outcome: e.outcome }, e.seconds);
    total.inc({ capability: e.capability, outcome: e.outcome });
  };
}
