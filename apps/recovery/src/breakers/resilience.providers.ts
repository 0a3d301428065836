/**
 * Nest wiring of breakers, load shedding and dead letters in recovery: the bucket, the
 * services with their policies from config, their NATS controllers, and one lifecycle provider
 * that starts their leadership watches and timers after boot (every replica listens; only the
 * leader decides) and stops them on shutdown.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type Provider, type Type } from '@nestjs/common';
import { Bus, encode, NatsClient, Topology } from '@sb/messaging';
import { type AppLogger, LOGGER, ServiceMetrics } from '@sb/observability';
import { TaskLifecycle } from '@sb/tasks';
import type { RecoveryConfig } from '../config';
import { DeadLetteredHandler } from '../dead-letters/dead-lettered.handler';
import { DeadLettersHandler } from '../dead-letters/dead-letters.handler';
import { DeadLettersNatsController } from '../dead-letters/dead-letters.nats';
import { DlqStore } from '../dead-letters/dlq-store';
import { PoisonWatch } from '../dead-letters/poison-watch';
import { IncidentLog } from '../incidents/incident-log';
import { LeaderLease } from '../leader/leader-lease';
import { RECOVERY_CONFIG } from '../recovery.tokens';
import { SheddingNatsController } from '../shedding/shedding.nats';
import { SheddingService } from '../shedding/shedding.service';
import { BreakerSignals } from './breaker-signals';
import { BreakersNatsController } from './breakers.nats';
import { BreakersService } from './breakers.service';
import { ResilienceBucket } from './resilience-bucket';

@Injectable()
export class ResilienceRuntime implements OnApplicationBootstrap, OnApplicationShutdown {
  private poisonTimer?: NodeJS.Timeout;

  constructor(
    @Inject(BreakersService) private readonly breakers: BreakersService,
    @Inject(SheddingService) private readonly shedding: SheddingService,
    @Inject(PoisonWatch) private readonly poison: PoisonWatch,
    @Inject(RECOVERY_CONFIG) private readonly config: RecoveryConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.breakers.start();
    await this.shedding.start();
    this.poisonTimer = setInterval(() => this.poison.tick(Date.now()), Math.min(60_000, this.config.DLQ_POISON_WINDOW_MS));
    this.poisonTimer.unref?.();
  }

  onApplicationShutdown(): void {
    this.breakers.stop();
    this.shedding.stop();
    if (this.poisonTimer) clearInterval(this.poisonTimer);
  }
}

export const resilienceControllers: Type[] = [BreakersNatsController, SheddingNatsController, DeadLettersNatsController];

export const resilienceProviders: Provider[] = [
  {
    provide: ResilienceBucket,
    inject: [Topology],
    useFactory: (t: Topology) => new ResilienceBucket(t.bucket('resilience')),
  },
  {
    provide: BreakersService,
    inject: [NatsClient, Bus, LeaderLease, ResilienceBucket, IncidentLog, ServiceMetrics, RECOVERY_CONFIG, LOGGER],
    useFactory: (c: NatsClient, bus: Bus, leader: LeaderLease, bucket: ResilienceBucket, incidents: IncidentLog, metrics: ServiceMetrics, cfg: RecoveryConfig, logger: AppLogger) =>
      new BreakersService(
        c,
        bus,
        leader,
        bucket,
        new BreakerSignals(metrics, (a) => bus.publish(c.names.alerts.raise, a), incidents, logger),
        {
          tickMs: cfg.BREAKER_TICK_MS,
          policy: {
            windowMs: cfg.BREAKER_WINDOW_MS,
            minVolume: cfg.BREAKER_MIN_VOLUME,
            errorRate: cfg.BREAKER_ERROR_RATE_PCT / 100,
            consecutiveFailures: cfg.BREAKER_CONSECUTIVE_FAILURES,
            cooldownMs: cfg.BREAKER_COOLDOWN_MS,
            maxCooldownMs: Math.max(cfg.BREAKER_COOLDOWN_MS, cfg.BREAKER_MAX_COOLDOWN_MS),
            probes: cfg.BREAKER_HALF_OPEN_PROBES,
            counted: new Set(cfg.BREAKER_COUNT),
            staleMs: cfg.BREAKER_STALE_MS,
          },
        },
        logger,
      ),
  },
  {
    provide: SheddingService,
    inject: [NatsClient, Topology, Bus, LeaderLease, ResilienceBucket, BreakersService, IncidentLog, ServiceMetrics, RECOVERY_CONFIG, LOGGER],
    useFactory: (c: NatsClient, t: Topology, bus: Bus, leader: LeaderLease, bucket: ResilienceBucket, breakers: BreakersService, incidents: IncidentLog, metrics: ServiceMetrics, cfg: RecoveryConfig, logger: AppLogger) => {
      const shedding = new SheddingService(
        c,
        bus,
        leader,
        bucket,
        (agentId, capability) => breakers.isOpen(agentId, capability),
        incidents,
        metrics,
        {
          tickMs: cfg.SHED_TICK_MS,
          agentDownAfterMs: cfg.SHED_AGENT_DOWN_AFTER_MS,
          registry: t.bucket('agents'),
          policy: {
            lowDeficit: cfg.SHED_LOW_DEFICIT,
            normalDeficit: Math.max(cfg.SHED_LOW_DEFICIT, cfg.SHED_NORMAL_DEFICIT),
            backlogLimit: cfg.SHED_BACKLOG_LIMIT,
            clearRatio: cfg.SHED_CLEAR_RATIO_PCT / 100,
            clearHoldMs: cfg.SHED_CLEAR_HOLD_MS,
            retryAfterS: cfg.SHED_RETRY_AFTER_S,
            stateTtlMs: Math.max(5_000, cfg.SHED_TICK_MS * 5),
          },
        },
        logger,
      );
      // Agents' capabilities as their outcome batches report them.
      breakers.onBatch = (agentId, caps) => shedding.offers(agentId, caps);
      return shedding;
    },
  },
  {
    provide: DeadLettersHandler,
    inject: [NatsClient, TaskLifecycle, RECOVERY_CONFIG],
    useFactory: (c: NatsClient, lifecycle: TaskLifecycle, cfg: RecoveryConfig) =>
      new DeadLettersHandler({ store: new DlqStore(c.js, c.jsm, c.names), tasks: lifecycle, scanMax: cfg.DLQ_SCAN_MAX, redriveMax: cfg.DLQ_REDRIVE_MAX }),
  },
  {
    provide: PoisonWatch,
    inject: [NatsClient, Bus, RECOVERY_CONFIG],
    useFactory: (c: NatsClient, bus: Bus, cfg: RecoveryConfig) =>
      new PoisonWatch({ threshold: cfg.DLQ_POISON_THRESHOLD, windowMs: cfg.DLQ_POISON_WINDOW_MS }, (a) => bus.publish(c.names.alerts.raise, a)),
  },
  { provide: DeadLetteredHandler, inject: [PoisonWatch, LeaderLease], useFactory: (poison: PoisonWatch, leader: LeaderLease) => new DeadLetteredHandler(poison, leader) },
  ResilienceRuntime,
];
