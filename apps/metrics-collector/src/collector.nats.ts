/**
 * NATS adapter for the collector. No logic here: subscriptions and timers feed FleetCollector.
 * Heartbeats, metrics, deregistrations, liveness and alert events are received by every
 * replica (each keeps the whole view); requests are served in the service's queue group.
 */
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Msg, Subscription } from '@nats-io/nats-core';
import { type AgentLivenessEvent, DeregistrationSchema, FleetEndpoints, LIVENESS_STATES } from '@sb/contracts';
import { Bus, NatsClient } from '@sb/messaging';
import { APP_CONFIG, type AppLogger, LOGGER, ServiceMetrics } from '@sb/observability';
import { FleetCollector } from './collector';
import type { MetricsCollectorConfig } from './config';
import { KvRegistryStore } from './registry/kv-registry-store';

const HOUSEKEEPING_MS = 30_000;
const MAX_HEARTBEAT_BYTES = 512 * 1024;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

@Injectable()
export class CollectorNatsAdapter implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly subs: Subscription[] = [];
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(NatsClient) private readonly client: NatsClient,
    @Inject(FleetCollector) private readonly collector: FleetCollector,
    @Inject(KvRegistryStore) private readonly registry: KvRegistryStore,
    @Inject(APP_CONFIG) private readonly config: MetricsCollectorConfig,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const n = this.client.names;
    const c = this.collector;
    await this.registry.watch(
      (rec) => c.applyRecord(rec),
      () => undefined,
    );
    await c.restore();
    for (const state of LIVENESS_STATES) {
      this.on(n.agents.livenessOf(state), (msg) => {
        const ev = parse(msg, 64 * 1024) as Partial<AgentLivenessEvent> | undefined;
        if (ev && typeof ev.agentId === 'string' && ev.state === state) c.applyLiveness({ agentId: ev.agentId, state });
      });
    }
    this.on(n.agents.heartbeatAll, (msg) => c.onHeartbeat(lastToken(msg.subject), parse(msg, MAX_HEARTBEAT_BYTES)));
    this.on(n.agents.metricsAll, (msg) => c.metrics.onBatch(lastToken(msg.subject), parse(msg, MAX_BATCH_BYTES)));
    this.on(n.agents.deregister, (msg) => {
      const d = DeregistrationSchema.safeParse(parse(msg, 64 * 1024));
      if (d.success) void c.registration.deregister(d.data).catch((err: unknown) => this.logger.warn({ err, agentId: d.data.agentId }, 'deregistration not recorded'));
    });
    this.on(n.alerts.all, (msg) => c.alerts.apply(parse(msg, 256 * 1024) as never));
    this.on(n.resilience.shedding, (msg) => c.recovery.applyShed(parse(msg, 64 * 1024) as never));
    this.on(n.resilience.breakers, (msg) => c.recovery.applyBreaker(parse(msg, 64 * 1024) as never));
    this.bus.serve(FleetEndpoints.register, (req) => c.registration.register(req));
    this.bus.serve(FleetEndpoints.agents, async (req) => c.overview.page(req));
    this.bus.serve(FleetEndpoints.overview, async () => c.overview.overview());
    this.bus.serve(FleetEndpoints.report, async (req) => c.reports.report(req.hours, req.limit));
    this.every(this.config.LIVENESS_FLUSH_MS, () => c.heartbeats.flush());
    this.every(this.config.LIVENESS_SWEEP_MS, () => c.sweeper.tick());
    this.every(this.config.FLEET_SAMPLES_MS, async () => this.bus.publish(n.fleet.samples, await c.samples.build()));
    this.every(HOUSEKEEPING_MS, () => c.housekeeping());
    // One round trip to the server: every subscription above is registered there before the
    // service reports ready, so an agent registering right after boot finds a responder.
    await this.client.nc.flush();
    this.logger.info({ agents: c.directory.size, missedBeats: this.config.LIVENESS_MISSED_BEATS }, 'collecting fleet telemetry');
  }

  async beforeApplicationShutdown(): Promise<void> {
    for (const t of this.timers.splice(0)) clearInterval(t);
    for (const s of this.subs.splice(0)) s.unsubscribe();
    this.registry.stop();
    await this.collector.heartbeats.flush();
  }

  private on(subject: string, handle: (msg: Msg) => void): void {
    this.subs.push(
      this.client.nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err) return;
          const start = process.hrtime.bigint();
          let code = '';
          try {
            handle(msg);
          } catch (e) {
            code = 'INTERNAL';
            this.logger.error({ err: e, subject: msg.subject }, 'collector message handler failed');
          }
          // RED per subscription (the wildcard, not each agent's subject: bounded cardinality).
          this.metrics.observe('nats', subject, start, code);
        },
      }),
    );
  }

  private every(ms: number, run: () => Promise<unknown>): void {
    let busy = false;
    this.timers.push(
      setInterval(() => {
        if (busy) return;
        busy = true;
        run()
          .catch((err: unknown) => this.logger.warn({ err }, 'collector periodic job failed'))
          .finally(() => (busy = false));
      }, ms),
    );
  }
}

function lastToken(subject: string): string {
  return subject.slice(subject.lastIndexOf('.') + 1);
}

/** JSON body, or undefined when it is too large or not JSON (the handlers count it as invalid). */
function parse(msg: Msg, maxBytes: number): unknown {
  if (msg.data.length === 0 || msg.data.length > maxBytes) return undefined;
  try {
    return JSON.parse(msg.string());
  } catch {
    return undefined;
  }
}
