/**
 * Nest wiring of breakers, load shedding and dead letters in recovery: the bucket, the
 * services with their policies from config, and one lifecycle provider that starts them
 * after boot (every replica listens; only the leader decides) and stops them on shutdown.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import type { Subscription } from '@nats-io/nats-core';
import { type DeadLetter, type RaiseAlert } from '@sb/contracts';
import { Bus, encode, NatsClient, openBucket } from '@sb/messaging';
import { type AppLogger, LOGGER, ServiceMetrics } from '@sb/observability';
import { publishTaskEvent, TaskInfrastructure } from '@sb/tasks';
import type { RecoveryConfig } from '../config';
import { DeadLettersHandler } from '../dead-letters/dead-letters.handler';
import { serveDeadLetters } from '../dead-letters/dead-letters.nats';
import { DlqStore } from '../dead-letters/dlq-store';
import { PoisonWatch } from '../dead-letters/poison-watch';
import { IncidentLog } from '../incidents/incident-log';
import { LeaderLease } from '../leader/leader-lease';
import { RECOVERY_CONFIG } from '../recovery.tokens';
import { SheddingService } from '../shedding/shedding.service';
import { BreakerSignals } from './breaker-signals';
import { BreakersService } from './breakers.service';
import { ResilienceBucket } from './resilience-bucket';

@Injectable()
export class ResilienceRuntime implements OnApplicationBootstrap, OnApplicationShutdown {
  private poisonSub?: Subscription;
  private poisonTimer?: NodeJS.Timeout;

  constructor(
    @Inject(BreakersService) private readonly breakers: BreakersService,
    @Inject(SheddingService) private readonly shedding: SheddingService,
    @Inject(DeadLettersHandler) private readonly deadLetters: DeadLettersHandler,
    @Inject(NatsClient) private readonly client: NatsClient,
    @Inject(Bus) private readonly bus: Bus,
    @Inject(LeaderLease) private readonly leader: LeaderLease,
    @Inject(RECOVERY_CONFIG) private readonly config: RecoveryConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.breakers.onBatch = (agentId, caps) => this.shedding.offers(agentId, caps);
    await this.breakers.start();
    await this.shedding.start();
    serveDeadLetters(this.bus, this.deadLetters);
    const raise = (a: RaiseAlert) => this.bus.publish(this.client.names.alerts.raise, a);
    const poison = new PoisonWatch({ threshold: this.config.DLQ_POISON_THRESHOLD, windowMs: this.config.DLQ_POISON_WINDOW_MS }, raise);
    this.poisonSub = this.client.nc.subscribe(this.client.names.deadLetters.all, {
      callback: (_e, msg) => {
        if (!this.leader.isLeader()) return;
        try {
          const entry = msg.json<DeadLetter>();
          if (entry?.task?.capability && Array.isArray(entry.errors)) poison.observe(entry, Date.now());
        } catch {
          // malformed: ignored
        }
      },
    });
    this.poisonTimer = setInterval(() => poison.tick(Date.now()), Math.min(60_000, this.config.DLQ_POISON_WINDOW_MS));
    this.poisonTimer.unref?.();
  }

  onApplicationShutdown(): void {
    this.breakers.stop();
    this.shedding.stop();
    this.poisonSub?.unsubscribe();
    if (this.poisonTimer) clearInterval(this.poisonTimer);
  }
}

export const resilienceProviders: Provider[] = [
  {
    provide: ResilienceBucket,
    inject: [NatsClient, RECOVERY_CONFIG],
    useFactory: async (c: NatsClient, cfg: RecoveryConfig) => new ResilienceBucket(await openBucket(c.kvm, c.names.resilience.bucket, { replicas: cfg.JETSTREAM_REPLICAS })),
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
    inject: [NatsClient, Bus, LeaderLease, ResilienceBucket, BreakersService, IncidentLog, ServiceMetrics, RECOVERY_CONFIG, LOGGER],
    useFactory: (c: NatsClient, bus: Bus, leader: LeaderLease, bucket: ResilienceBucket, breakers: BreakersService, incidents: IncidentLog, metrics: ServiceMetrics, cfg: RecoveryConfig, logger: AppLogger) =>
      new SheddingService(
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
          replicas: cfg.JETSTREAM_REPLICAS,
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
      ),
  },
  {
    provide: DeadLettersHandler,
    inject: [NatsClient, Bus, TaskInfrastructure, RECOVERY_CONFIG],
    useFactory: (c: NatsClient, bus: Bus, infra: TaskInfrastructure, cfg: RecoveryConfig) =>
      new DeadLettersHandler({
        store: new DlqStore(c.js, c.jsm, c.names),
        tasks: infra.store,
        scanMax: cfg.DLQ_SCAN_MAX,
        enqueue: async (task, headers, msgID) => {
          await c.js.publish(c.names.queue.subject(task.capability, task.priority), encode(task), { msgID, headers });
        },
        announce: (record) => {
          publishTaskEvent(bus, record);
          c.nc.publish(c.names.internal.taskReady(record.capability, record.priority));
        },
      }),
  },
  ResilienceRuntime,
];
