/**
 * The collector's work that is not a message: the registry snapshot, and the periodic jobs
 * (heartbeat flush, liveness sweep, fleet samples, housekeeping).
 *
 * Order matters. The registry snapshot is loaded and liveness restored at module init, before the
 * transport subscribes (at bootstrap), so the first heartbeat finds the agent known. The timers
 * start at bootstrap after the transport's subscriptions (the messaging module's hooks run before
 * the service's), so no agent is judged before its beats can arrive. At shutdown the timers stop
 * first; the last heartbeats are written after the transport has stopped taking them.
 */
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Bus } from '@sb/messaging';
import { APP_CONFIG, type AppLogger, LOGGER } from '@sb/observability';
import { FleetCollector } from './collector';
import type { MetricsCollectorConfig } from './config';
import { KvRegistryStore } from './registry/kv-registry-store';

const HOUSEKEEPING_MS = 30_000;

@Injectable()
export class CollectorJobs implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(FleetCollector) private readonly collector: FleetCollector,
    @Inject(KvRegistryStore) private readonly registry: KvRegistryStore,
    @Inject(APP_CONFIG) private readonly config: MetricsCollectorConfig,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  async onModuleInit(): Promise<void> {
    const c = this.collector;
    await this.registry.watch(
      (rec) => c.applyRecord(rec),
      () => undefined,
    );
    await c.restore();
  }

  onApplicationBootstrap(): void {
    const c = this.collector;
    this.every(this.config.LIVENESS_FLUSH_MS, () => c.heartbeats.flush());
    this.every(this.config.LIVENESS_SWEEP_MS, () => c.sweeper.tick());
    this.every(this.config.FLEET_SAMPLES_MS, async () => this.bus.publish(this.bus.names.fleet.samples, await c.samples.build()));
    this.every(HOUSEKEEPING_MS, () => c.housekeeping());
    this.logger.info({ agents: c.directory.size, missedBeats: this.config.LIVENESS_MISSED_BEATS }, 'collecting fleet telemetry');
  }

  beforeApplicationShutdown(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.registry.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.collector.heartbeats.flush();
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
