/** Nest wiring of the dispatcher (agent protocol v1): the task source, the agent roster, the dispatcher itself. */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type Provider, type Type } from '@nestjs/common';
import { Bus, NatsClient, publishSecurityEvent, Topology } from '@sb/messaging';
import { APP_CONFIG, type AppLogger, LOGGER } from '@sb/observability';
import { TaskAnnouncer, TaskInfrastructure, TaskQueue } from '@sb/tasks';
import type { GatewayConfig } from '../config';
import { AgentRoster } from './agent-roster';
import { AgentWorkNatsController } from './agents.nats';
import { Dispatcher } from './dispatcher';
import { TaskSource } from './task-source';

/** Starts the roster and the lease sweeper with the app; hands every held lease back on shutdown. */
@Injectable()
export class DispatchLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(AgentRoster) private readonly roster: AgentRoster,
    @Inject(Dispatcher) private readonly dispatcher: Dispatcher,
    @Inject(TaskSource) private readonly source: TaskSource,
  ) {}
  async onApplicationBootstrap() {
    await this.roster.start();
    this.dispatcher.start();
  }
  onApplicationShutdown() {
    this.dispatcher.stop();
    this.source.close();
    this.roster.stop();
  }
}

export const dispatchControllers: Type[] = [AgentWorkNatsController];

export const dispatchProviders: Provider[] = [
  { provide: AgentRoster, inject: [Topology], useFactory: (t: Topology) => new AgentRoster(t.bucket('agents')) },
  { provide: TaskSource, inject: [NatsClient, Topology], useFactory: (c: NatsClient, t: Topology) => new TaskSource(c.nc, c.names, t) },
  {
    provide: Dispatcher,
    inject: [Bus, NatsClient, Topology, TaskInfrastructure, TaskQueue, TaskAnnouncer, TaskSource, AgentRoster, APP_CONFIG, LOGGER],
    useFactory: (bus: Bus, c: NatsClient, t: Topology, infra: TaskInfrastructure, queue: TaskQueue, announcer: TaskAnnouncer, source: TaskSource, roster: AgentRoster, cfg: GatewayConfig, logger: AppLogger) =>
      new Dispatcher({
        bus,
        store: infra.store,
        queue,
        announcer,
        source,
        retry: { maxAttempts: t.settings.taskMaxAttempts, baseMs: cfg.TASK_BACKOFF_BASE_MS, maxMs: cfg.TASK_BACKOFF_MAX_MS },
        leaseMs: t.settings.taskAckWaitMs,
        instanceId: c.self.instanceId,
        capabilitiesOf: (agentId) => roster.capabilitiesOf(agentId),
        sessionMatches: (agentId, session) => roster.sessionMatches(agentId, session),
        securityEvent: (e) => publishSecurityEvent(bus, e),
        logger,
      }),
  },
  DispatchLifecycle,
];
