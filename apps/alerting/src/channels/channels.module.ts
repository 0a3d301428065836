/**
 * Notification channels inside the alerting service: channel CRUD, the JetStream outbox the
 * engine hands notifications to (NOTIFICATION_OUTBOX), fan-out, per-channel delivery with
 * retries, and the delivery log. Streams exist before anything can inject the outbox.
 */
import { type DynamicModule, Module } from '@nestjs/common';
import { timeSortableId } from '@sb/tasks';
import { NatsClient, openBucket } from '@sb/messaging';
import { type AppLogger, LOGGER, ServiceMetrics } from '@sb/observability';
import type { ChannelsConfig } from './channels-config';
import { KvChannelStore } from './channel-store';
import { ChannelsHandler } from './channels.handler';
import { ChannelsNatsController } from './channels.nats';
import { DeliveryAttemptHandler } from './delivery-attempt.handler';
import { JetStreamDeliveryLog } from './delivery-log';
import { DeliveryRunners } from './delivery-runners';
import { deliveryMetrics } from './delivery-metrics';
import { FanoutHandler } from './fanout.handler';
import { FetchHttpSender } from './http-sender';
import { GROUP_PROGRESS_TTL_MS, KvGroupProgress } from './group-progress';
import { JetStreamOutbox } from './jetstream-outbox';
import { NOTIFICATION_OUTBOX, type NotificationOutbox } from './notification-outbox';
import { ensureDeliveryConsumer, ensureFanoutConsumer, ensureNotificationStreams, removeDeliveryConsumer } from './notification-streams';

@Module({})
export class ChannelsModule {
  static forRoot(config: ChannelsConfig): DynamicModule {
    return {
      module: ChannelsModule,
      controllers: [ChannelsNatsController],
      providers: [
        {
          provide: KvChannelStore,
          inject: [NatsClient],
          useFactory: async (c: NatsClient) => new KvChannelStore(await openBucket(c.kvm, c.names.channels.bucket, { replicas: config.JETSTREAM_REPLICAS })),
        },
        {
          provide: JetStreamDeliveryLog,
          inject: [NatsClient],
          useFactory: (c: NatsClient) => new JetStreamDeliveryLog(() => c.js, () => c.jsm, c.names),
        },
        {
          provide: NOTIFICATION_OUTBOX,
          inject: [NatsClient],
          useFactory: async (c: NatsClient): Promise<NotificationOutbox> => {
            await ensureNotificationStreams(c.jsm, c.names, {
              replicas: config.JETSTREAM_REPLICAS,
              dedupeWindowMs: config.NOTIFY_DEDUPE_WINDOW_MS,
              retentionMs: config.NOTIFY_RETENTION_MS,
              logPerChannel: config.NOTIFY_LOG_PER_CHANNEL,
              logMaxAgeMs: config.NOTIFY_LOG_MAX_AGE_MS,
            });
            await ensureFanoutConsumer(c.jsm, c.names, config.NOTIFY_DEDUPE_WINDOW_MS);
            return new JetStreamOutbox(() => c.js, c.names);
          },
        },
        {
          provide: DeliveryAttemptHandler,
          inject: [JetStreamDeliveryLog, ServiceMetrics, LOGGER, NatsClient],
          useFactory: async (log: JetStreamDeliveryLog, m: ServiceMetrics, logger: AppLogger, c: NatsClient) => {
            const progress = new KvGroupProgress(await openBucket(c.kvm, c.names.channels.progressBucket, { replicas: config.JETSTREAM_REPLICAS, ttlMs: GROUP_PROGRESS_TTL_MS }));
            const backoff = { baseMs: config.NOTIFY_BACKOFF_BASE_MS, maxMs: config.NOTIFY_BACKOFF_MAX_MS };
            return new DeliveryAttemptHandler(new FetchHttpSender(), log, deliveryMetrics(m), backoff, logger, progress);
          },
        },
        {
          provide: ChannelsHandler,
          inject: [KvChannelStore, JetStreamDeliveryLog, NatsClient, NOTIFICATION_OUTBOX],
          useFactory: (store: KvChannelStore, log: JetStreamDeliveryLog, c: NatsClient, outbox: NotificationOutbox) =>
            new ChannelsHandler(store, log, channelLifecycle(c), outbox, () => timeSortableId('ch_')),
        },
        {
          provide: DeliveryRunners,
          inject: [NatsClient, KvChannelStore, DeliveryAttemptHandler, LOGGER],
          useFactory: (c: NatsClient, store: KvChannelStore, attempts: DeliveryAttemptHandler, logger: AppLogger) =>
            new DeliveryRunners({ js: () => c.js, jsm: () => c.jsm, n: c.names, store, attempts, logger }, config.NOTIFY_CHANNEL_CONCURRENCY),
        },
        {
          // NOTIFICATION_OUTBOX: the outbox stream and the fan-out consumer exist before the transport consumes it.
          provide: FanoutHandler,
          inject: [NatsClient, KvChannelStore, DeliveryRunners, DeliveryAttemptHandler, LOGGER, NOTIFICATION_OUTBOX],
          useFactory: (c: NatsClient, store: KvChannelStore, runners: DeliveryRunners, attempts: DeliveryAttemptHandler, logger: AppLogger) =>
            new FanoutHandler(() => c.js, c.names, async (id) => runners.channel(id) ?? store.get(id), attempts, logger),
        },
      ],
      exports: [NOTIFICATION_OUTBOX],
    };
  }
}

function channelLifecycle(c: NatsClient) {
  return {
    created: (id: string) => ensureDeliveryConsumer(c.jsm, c.names, id),
    deleted: (id: string) => removeDeliveryConsumer(c.jsm, c.names, id),
  };
}
