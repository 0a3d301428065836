/**
 * The recovery core's lifecycle (no decisions, no subscriptions: its handlers are declared in
 * reclaim/agent-liveness.nats.ts and incidents/incidents.nats.ts). A replica that becomes
 * leader finishes what its predecessor left and indexes the unfinished tasks; the deadline
 * sweeper runs on a timer; on shutdown the work under way ends before the lease is handed back.
 */
import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { NatsClient } from '@sb/messaging';
import { type AppLogger, LOGGER } from '@sb/observability';
import { TaskInfrastructure } from '@sb/tasks';
import type { RecoveryConfig } from './config';
import { LeaderLease } from './leader/leader-lease';
import { AgentLivenessHandler } from './reclaim/agent-liveness.handler';
import { RunningIndex } from './reclaim/running-index';
import { RecoveryMetrics } from './recovery-metrics';
import { RECOVERY_CONFIG } from './recovery.tokens';
import { DeadlineSweeper } from './sweeper/deadline-sweeper';

/** Task records a new leader reads at most when it looks for unfinished tasks. */
const SCAN_LIMIT = 100_000;

@Injectable()
export class RecoveryCoreService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private sweepTimer?: NodeJS.Timeout;
  private stopped = false;
  private readonly pending = new Set<Promise<unknown>>();
  private stopLeaderWatch?: () => void;

  constructor(
    @Inject(NatsClient) private readonly client: NatsClient,
    @Inject(TaskInfrastructure) private readonly infra: TaskInfrastructure,
    @Inject(LeaderLease) private readonly lease: LeaderLease,
    @Inject(AgentLivenessHandler) private readonly liveness: AgentLivenessHandler,
    @Inject(DeadlineSweeper) private readonly sweeper: DeadlineSweeper,
    @Inject(RunningIndex) private readonly index: RunningIndex,
    @Inject(RecoveryMetrics) private readonly metrics: RecoveryMetrics,
    @Inject(RECOVERY_CONFIG) private readonly cfg: RecoveryConfig,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  onApplicationBootstrap(): void {
    this.stopLeaderWatch = this.lease.onChange((leader) => {
      if (leader) this.tookOver();
    });
    if (this.lease.isLeader()) this.tookOver();
    this.scheduleSweep();
  }

  private tookOver(): void {
    this.track(this.liveness.takeOver());
    this.track(this.indexUnfinishedTasks());
  }

  private scheduleSweep(): void {
    if (this.stopped) return;
    this.sweepTimer = setTimeout(() => {
      this.track(
        this.sweeper
          .sweep()
          .then((r) => r.timedOut.length && this.metrics.timedOut.inc(r.timedOut.length))
          .finally(() => this.scheduleSweep()),
      );
    }, this.cfg.RECOVERY_SWEEP_INTERVAL_MS);
  }

  /** A new leader also sweeps tasks accepted before this replica listened to task events. */
  private async indexUnfinishedTasks(): Promise<void> {
    const kv = await this.client.kvm.open(this.client.names.buckets.tasks);
    let seen = 0;
    for await (const key of await kv.keys()) {
      if (++seen > SCAN_LIMIT || !this.lease.isLeader()) break;
      const dot = key.indexOf('.');
      const cur = await this.infra.store.get(key.slice(0, dot), key.slice(dot + 1));
      const r = cur?.record;
      if (r && (r.status === 'queued' || r.status === 'running')) this.index.add({ taskId: r.taskId, tenantId: r.tenantId, capability: r.capability, status: r.status, agentId: r.agentId ?? null });
    }
  }

  /** Stops taking over and sweeping, and waits for what it started (the bus then stops taking events and finishes its handlers). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.stopLeaderWatch?.();
    clearTimeout(this.sweepTimer);
    await Promise.allSettled([...this.pending]);
  }

  /** After the bus finished its handlers: hand the lease back, so another replica takes over at once. */
  async onApplicationShutdown(): Promise<void> {
    await this.lease.stop();
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((err: unknown) => this.logger.error({ err }, 'recovery action failed')).finally(() => this.pending.delete(q));
    this.pending.add(q);
  }
}
