/**
 * The worker's lifecycle: declare consumers and capabilities, pull and run tasks; on shutdown
 * stop pulling, let running tasks finish within the grace period, and hand back the rest for
 * another worker. Aborts of running tasks arrive through TaskAbortNatsController (task-abort.nats.ts),
 * which shares this service's AbortRegistry.
 */
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Bus, NatsClient, Topology } from '@sb/messaging';
import { PRIORITIES } from '@sb/contracts';
import { APP_CONFIG, type AppLogger, LOGGER, ServiceMetrics } from '@sb/observability';
import { offerCapabilities, TaskAnnouncer, TaskInfrastructure, TaskQueue } from '@sb/tasks';
import { AgentRegistry } from '../agents/agent-registry';
import { HeldTasks } from '../telemetry/held-tasks';
import type { WorkerConfig } from '../config';
import { AbortRegistry } from './abort-registry';
import { TaskExecutor } from './task-executor';
import { type BreakerWiring, startBreakerGate } from './breaker-gate-setup';
import { TaskPuller } from './task-puller';
import { TenantSlots } from './tenant-slots';
import { WorkerMetrics } from './worker-metrics';

@Injectable()
export class WorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private puller?: TaskPuller;
  private breakers?: BreakerWiring;

  constructor(
    @Inject(NatsClient) private readonly client: NatsClient,
    @Inject(Topology) private readonly topology: Topology,
    @Inject(Bus) private readonly bus: Bus,
    @Inject(TaskInfrastructure) private readonly infra: TaskInfrastructure,
    @Inject(AgentRegistry) private readonly agents: AgentRegistry,
    @Inject(APP_CONFIG) private readonly config: WorkerConfig,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
    @Inject(HeldTasks) private readonly held: HeldTasks,
    @Inject(AbortRegistry) private readonly aborts: AbortRegistry,
    @Inject(TaskQueue) private readonly queue: TaskQueue,
    @Inject(TaskAnnouncer) private readonly announcer: TaskAnnouncer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const c = this.config;
    const capabilities = this.agents.capabilities();
    await Promise.all(capabilities.flatMap((capability) => PRIORITIES.map((priority) => this.topology.ensureDurable('taskQueue', { capability, priority }))));
    await offerCapabilities(this.infra.capabilities, capabilities, c.WORKER_AGENTS, c.WORKER_ID);
    this.breakers = c.WORKER_BREAKER_GATE
      ? await startBreakerGate(this.client, this.topology.bucket('resilience'), c.WORKER_ID, capabilities, c.WORKER_OUTCOME_FLUSH_MS, () => this.puller?.wakeUp(), this.logger)
      : undefined;
    const executor = new TaskExecutor({
      bus: this.bus,
      store: this.infra.store,
      queue: this.queue,
      announcer: this.announcer,
      agents: this.agents,
      aborts: this.aborts,
      retry: { maxAttempts: c.TASK_MAX_ATTEMPTS, baseMs: c.TASK_BACKOFF_BASE_MS, maxMs: c.TASK_BACKOFF_MAX_MS },
      ackWaitMs: c.TASK_ACK_WAIT_MS,
      workerId: c.WORKER_ID,
      logger: this.logger,
      metrics: new WorkerMetrics(this.metrics),
      slots: c.WORKER_TENANT_SLOTS ? new TenantSlots(this.bus, c.TASK_ACK_WAIT_MS, this.logger) : undefined,
      outcomes: this.breakers?.outcomes,
    });
    this.puller = new TaskPuller(this.client.nc, this.client.names, { capabilities, concurrency: c.WORKER_CONCURRENCY, idlePollMs: c.WORKER_IDLE_POLL_MS, gate: this.breakers?.gate }, (m) => this.held.track(m, () => executor.run(m)), this.logger);
    this.puller.start();
    this.logger.info({ workerId: c.WORKER_ID, capabilities, concurrency: c.WORKER_CONCURRENCY }, 'worker taking tasks');
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (!this.puller) return;
    const finished = await this.puller.stop(this.config.SHUTDOWN_GRACE_MS);
    if (!finished) {
      this.logger.warn({ running: this.aborts.size }, 'grace period over; handing running tasks back');
      this.aborts.abortAll('shutdown');
      await this.puller.stop(2_000);
    }
    this.breakers?.stop();
  }
}
