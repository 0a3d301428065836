/**
 * Nest wiring of the leader lease: opens its bucket, starts the lease loop, steps down on a
 * NATS disconnect, exports the `sb_recovery_leader` gauge, and hands the lease back on
 * shutdown. Inject `LeaderLease` to ask `isLeader()` / `onChange()` / `epoch`.
 */
import type { FactoryProvider } from '@nestjs/common';
import { NatsClient, Topology } from '@sb/messaging';
import { type AppLogger, LOGGER, ServiceMetrics } from '@sb/observability';
import { Gauge } from 'prom-client';
import { RECOVERY_CONFIG } from '../recovery.tokens';
import type { RecoveryConfig } from '../config';
import { KvLeaseStore } from './kv-lease-store';
import { LeaderLease } from './leader-lease';

export const leaderLeaseProvider: FactoryProvider<LeaderLease> = {
  provide: LeaderLease,
  inject: [NatsClient, Topology, RECOVERY_CONFIG, LOGGER, ServiceMetrics],
  useFactory: (client: NatsClient, t: Topology, cfg: RecoveryConfig, logger: AppLogger, metrics: ServiceMetrics) => {
    const lease = new LeaderLease(new KvLeaseStore(t.bucket('recoveryLeader')), {
      replicaId: cfg.RECOVERY_REPLICA_ID,
      leaseMs: cfg.RECOVERY_LEASE_MS,
      onError: (err, during) => (during === 'acquire' ? logger.debug({ err }, 'leader lease: not acquired') : logger.warn({ err, during }, 'leader lease error')),
    });
    const gauge = new Gauge({ name: 'sb_recovery_leader', help: '1 while this recovery replica is the acting leader', registers: [metrics.registry] });
    gauge.set(0);
    lease.onChange((leader) => {
      gauge.set(leader ? 1 : 0);
      logger.info({ replica: cfg.RECOVERY_REPLICA_ID, epoch: lease.epoch }, leader ? 'recovery leadership acquired' : 'recovery leadership lost');
    });
    void (async () => {
      for await (const s of client.nc.status()) if (s.type === 'disconnect') lease.connectionLost();
    })();
    lease.start();
    return lease;
  },
};
