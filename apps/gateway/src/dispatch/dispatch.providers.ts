/**
 * Nest wiring of the dispatcher (agent protocol v1): the task source, the agent roster, the
 * agents' circuit breakers (one watch of `breaker.agent.>` in the resilience bucket) and their
 * outcome batches, tenancy's concurrent-task slots, and the dispatcher itself.
 */
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type Provider,
  type Type,
} from '@nestjs/common';
import type { OutcomeBatch } from '@sb/contracts';
import { Bus, NatsClient, publishSecurityEvent, Topology } from '@sb/messaging';
import { APP_CONFIG, type AppLogger, LOGGER } from '@sb/observability';
import { AgentOutcomes, BreakerGate, TaskAnnouncer, TaskInfrastructure, TaskQueue, TenantSlots } from '@sb/tasks';
import type { GatewayConfig } from '../config';
import { AgentRoster } from './agent-roster';
import { AgentWorkNatsController } from './agents.nats';
import { Dispatcher } from './dispatcher';
import { TaskSource } from './task-source';

/**
 * Starts the roster, the breaker watch, the outcome batches and the lease sweeper with the app.
 * On shutdown: first the agents finish what they hold here (within SHUTDOWN_GRACE_MS, nothing new
 * granted, parked tasks handed back), then what is left goes back to the queue, before the
 * connection drains.
 */
@Injectable()
export class DispatchLifecycle implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  constructor(
    @Inject(AgentRoster) private readonly roster: AgentRoster,
    @Inject(Dispatcher) private readonly dispatcher: Dispatcher,
    @Inject(TaskSource) private readonly source: TaskSource,
    @Inject(BreakerGate) private readonly gate: BreakerGate,
    @Inject(AgentOutcomes) private readonly outcomes: AgentOutcomes,
    @Inject(Topology) private readonly topology: Topology,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
  ) {}
  async onApplicationBootstrap() {
    await this.roster.start();
    try {
      await this.gate.watch(this.topology.bucket('resilience'));
    } catch (err) {
      // Without the bucket nobody is gated (fail open), as the bundled worker did: agents keep taking work.
      this.logger.warn({ err }, 'breaker states unavailable; handing out work without the breaker gate');
    }
    this.outcomes.start();
    this.dispatcher.start();
  }
  /**
   * First in Nest's shutdown, while the transport still serves the verbs and the connection is
   * open: agents finish what they hold here, the rest goes back to the queue, the last outcomes go
   * out.
   */
  async onModuleDestroy() {
    await this.dispatcher.drain(this.config.SHUTDOWN_GRACE_MS);
    await this.dispatcher.stop();
    this.outcomes.stop();
  }
  onApplicationShutdown() {
    this.gate.stop();
    this.source.close();
    this.roster.stop();
  }
}

export const dispatchControllers: Type[] = [AgentWorkNatsController];

export const dispatchProviders: Provider[] = [
  { provide: AgentRoster, inject: [Topology], useFactory: (t: Topology) => new AgentRoster(t.bucket('agents')) },
  {
    provide: TaskSource,
    inject: [NatsClient, Topology, TaskQueue],
    useFactory: (c: NatsClient, t: Topology, queue: TaskQueue) => {
      const source = new TaskSource(c.nc, c.names, t);
      // Work this gateway queues wakes its own takes at once, not after the hint's round trip.
      queue.wakeLocally((capability, priority) => source.hinted(capability, priority));
      return source;
    },
  },
  // A breaker of an agent closed or went half-open: its waiting takes look again.
  { provide: BreakerGate, inject: [TaskSource], useFactory: (source: TaskSource) => new BreakerGate((agentId) => source.wakeAgent(agentId)) },
  {
    provide: AgentOutcomes,
    inject: [Bus, APP_CONFIG],
    // The same batches, on the same subject, as the bundled worker sent for itself (recovery's breakers consume them).
    useFactory: (bus: Bus, cfg: GatewayConfig) =>
      new AgentOutcomes((b: OutcomeBatch) => bus.publish(bus.names.resilience.outcomes(b.agentId), b), cfg.DISPATCH_OUTCOME_FLUSH_MS),
  },
  {
    provide: Dispatcher,
    inject: [Bus, NatsClient, Topology, TaskInfrastructure, TaskQueue, TaskAnnouncer, TaskSource, AgentRoster, BreakerGate, AgentOutcomes, APP_CONFIG, LOGGER],
    useFactory: (
      bus: Bus,
      c: NatsClient,
      t: Topology,
      infra: TaskInfrastructure,
      queue: TaskQueue,
      announcer: TaskAnnouncer,
      source: TaskSource,
      roster: AgentRoster,
      gate: BreakerGate,
      outcomes: AgentOutcomes,
      cfg: GatewayConfig,
      logger: AppLogger,
    ) =>
      new Dispatcher({
        bus,
        store: infra.store,
        queue,
        announcer,
        source,
        retry: { maxAttempts: t.settings.taskMaxAttempts, baseMs: cfg.TASK_BACKOFF_BASE_MS, maxMs: cfg.TASK_BACKOFF_MAX_MS },
        leaseMs: t.settings.taskAckWaitMs,
        recordRunningAfterMs: cfg.TASK_RUNNING_RECORD_MS,
        instanceId: c.self.instanceId,
        capabilitiesOf: (agentId) => roster.capabilitiesOf(agentId),
        sessionMatches: (agentId, session) => roster.sessionMatches(agentId, session),
        registeredAt: (agentId) => roster.registeredAt(agentId),
        securityEvent: (e) => publishSecurityEvent(bus, e),
        logger,
        // The slot lease is the queue's ack wait, as long as an agent's lease.
        slots: new TenantSlots(bus, t.settings.taskAckWaitMs, logger),
        gate,
        outcomes,
      }),
  },
  DispatchLifecycle,
];
