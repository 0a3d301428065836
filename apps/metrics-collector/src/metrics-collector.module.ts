import { type DynamicModule, Module } from '@nestjs/common';
import { ApiKeyVerifier, Bus, busAuthorizePort, coreImports, NatsClient, publishSecurityEvent, Topology } from '@sb/messaging';
import { offerCapabilities } from '@sb/tasks';
import { type AppLogger, LOGGER, ServiceMetrics } from '@sb/observability';
import { RedisClient, RedisModule, redisConnectionOf } from '@sb/redis';
import { systemClock, type Clock } from '@sb/observability';
import { FleetCollector } from './collector';
import { CollectorMetrics } from './collector-metrics';
import { CollectorJobs } from './collector-jobs';
import { CollectorNatsController } from './collector.nats';
import type { MetricsCollectorConfig } from './config';
import { JetStreamQueueProbe } from './fleet-samples/queue-probe';
import { FleetMetricsHttpController } from './ingestion/fleet-metrics.http';
import { RedisLivenessStore } from './liveness/liveness-store';
import { AgentCredentials } from './registry/agent-credentials';
import { KvRegistryStore } from './registry/kv-registry-store';

export interface CollectorModuleOptions {
  /** Tests drive time with their own clock. */
  clock?: Clock;
}

/** Agent registry, liveness, metric ingestion, fleet samples, overview and report. */
export function metricsCollectorModule(config: MetricsCollectorConfig, logger: AppLogger, opts: CollectorModuleOptions = {}): DynamicModule {
  return {
    module: MetricsCollectorModule,
    imports: [...coreImports('metrics-collector', config, logger), RedisModule.forRoot({ ...redisConnectionOf(config), keyPrefix: config.SB_PREFIX, service: 'metrics-collector' })],
    controllers: [FleetMetricsHttpController, CollectorNatsController],
    providers: [
      {
        provide: KvRegistryStore,
        inject: [Topology],
        useFactory: (t: Topology) => new KvRegistryStore(t.bucket('agents')),
      },
      { provide: CollectorMetrics, inject: [ServiceMetrics, LOGGER], useFactory: (m: ServiceMetrics, l: AppLogger) => new CollectorMetrics(m, l) },
      {
        // Agent keys, as auth answers for them (cached briefly; revocations evict at once: collector.nats.ts).
        provide: AgentCredentials,
        inject: [Bus],
        useFactory: (bus: Bus) => {
          const keys = new ApiKeyVerifier(busAuthorizePort(bus), config.AGENT_AUTH_CACHE_TTL_MS);
          return new AgentCredentials(keys, (e) => publishSecurityEvent(bus, e));
        },
      },
      {
        provide: FleetCollector,
        inject: [NatsClient, Topology, Bus, RedisClient, KvRegistryStore, CollectorMetrics, AgentCredentials],
        useFactory: (client: NatsClient, topology: Topology, bus: Bus, redis: RedisClient, registry: KvRegistryStore, metrics: CollectorMetrics, credentials: AgentCredentials) => {
          const n = client.names;
          return new FleetCollector(
            {
              liveness: new RedisLivenessStore(redis),
              registry,
              publish: {
                publish: (ev) => {
                  metrics.livenessEvents.inc({ state: ev.state });
                  bus.publish(ev.state === 'up' ? n.agents.up(ev.agentId) : ev.state === 'down' ? n.agents.down(ev.agentId) : n.agents.left(ev.agentId), ev);
                },
              },
              probe: new JetStreamQueueProbe(client.jsm, n),
              clock: opts.clock ?? systemClock,
              heartbeatHooks: { ...metrics.heartbeat, askToRegister: (agentId) => bus.publish(n.fleetApi.reregister(agentId), { agentId }) },
              // Beats the server already sent us are read before anyone is judged (see SweepHooks.beforeSweep).
              sweepHooks: { ...metrics.sweep, beforeSweep: () => client.nc.flush() },
              ingestHooks: metrics.ingest,
              forwardMetrics: (batch) => bus.publish(n.fleet.validatedMetrics, batch),
              catalog: (capabilities, agentId) => offerCapabilities(topology.bucket('capabilities'), capabilities, [agentId], agentId),
              credentials,
              securityEvent: (e) => publishSecurityEvent(bus, e),
              refused: metrics.refused,
            },
            {
              missedBeats: config.LIVENESS_MISSED_BEATS,
              sweepMs: config.LIVENESS_SWEEP_MS,
              maxSeriesPerAgent: config.COLLECTOR_MAX_SERIES_PER_AGENT,
              seriesRetentionMs: config.COLLECTOR_SERIES_RETENTION_MS,
              forgetAfterMs: config.COLLECTOR_FORGET_AFTER_MS,
              leftRetentionMs: config.COLLECTOR_LEFT_RETENTION_MS,
              fleetWindowMs: config.FLEET_WINDOW_MS,
              leaseMs: topology.settings.taskAckWaitMs,
              agentLimits: {
                maxAgents: config.COLLECTOR_MAX_AGENTS,
                maxAgentsPerKey: config.COLLECTOR_MAX_AGENTS_PER_KEY,
                maxRegistrationBytes: config.COLLECTOR_MAX_REGISTRATION_BYTES,
              },
            },
          );
        },
      },
      CollectorJobs,
    ],
  };
}

@Module({})
export class MetricsCollectorModule {}
