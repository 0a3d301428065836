/**
 * Notification channels inside the alerting service: channel CRUD, the JetStream outbox the
 * engine hands notifications to (NOTIFICATION_OUTBOX), fan-out, per-channel delivery with
 * retries, and the delivery log. Streams exist before anything can inject the outbox.
 */
import { type DynamicModule, Module } from '@nestjs/common';
import { timeSortableId } from '@sb/tasks';
import { NatsClient, Topology } from '@sb/messaging';
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
import { GuardedHttpSender } from './http-sender';
import { type Resolver, WebhookAllowList, WebhookGuard } from './webhook-guard';

export interface ChannelsModuleOptions {
  /** Host name resolution for the SSRF guard (tests give names their own addresses); dns.lookup by default. */
  resolve?: Resolver;
}
import { KvGroupProgress } from './group-progress';
import { JetStreamOutbox } from './jetstream-outbox';
import { NOTIFICATION_OUTBOX, type NotificationOutbox } from './notification-outbox';
import { channelConsumers } from './notification-streams';

@Module({})
export class ChannelsModule {
  static forRoot(config: ChannelsConfig, opts: ChannelsModuleOptions = {}): DynamicModule {
    return {
      module: ChannelsModule,
      controllers: [ChannelsNatsController],
      providers: [
        { provide: WebhookGuard, useFactory: () => new WebhookGuard(new WebhookAllowList(config.ALERTING_WEBHOOK_ALLOW), opts.resolve) },
        {
          provide: KvChannelStore,
          inject: [Topology],
          useFactory: (t: Topology) => new KvChannelStore(t.bucket('notifyChannels')),
        },
        {
          provide: JetStreamDeliveryLog,
          inject: [NatsClient],
          useFactory: (c: NatsClient) => new JetStreamDeliveryLog(() => c.js, () => c.jsm, c.names),
        },
        {
          provide: NOTIFICATION_OUTBOX,
          inject: [NatsClient],
          useFactory: (c: NatsClient): NotificationOutbox => new JetStreamOutbox(() => c.js, c.names),
        },
        {
          provide: DeliveryAttemptHandler,
          inject: [JetStreamDeliveryLog, ServiceMetrics, LOGGER, Topology, WebhookGuard],
          useFactory: (log: JetStreamDeliveryLog, m: ServiceMetrics, logger: AppLogger, t: Topology, guard: WebhookGuard) => {
            const progress = new KvGroupProgress(t.bucket('notifyProgress'));
            const backoff = { baseMs: config.NOTIFY_BACKOFF_BASE_MS, maxMs: config.NOTIFY_BACKOFF_MAX_MS };
            return new DeliveryAttemptHandler(new GuardedHttpSender(guard), log, deliveryMetrics(m), backoff, logger, progress);
          },
        },
        {
          provide: ChannelsHandler,
          inject: [KvChannelStore, JetStreamDeliveryLog, NatsClient, Topology, NOTIFICATION_OUTBOX, WebhookGuard],
          useFactory: (store: KvChannelStore, log: JetStreamDeliveryLog, c: NatsClient, t: Topology, outbox: NotificationOutbox, guard: WebhookGuard) =>
            new ChannelsHandler(store, log, channelConsumers(t, () => c.jsm, c.names), outbox, () => timeSortableId('ch_'), undefined, (url) => guard.checkUrl(url)),
        },
        {
          provide: DeliveryRunners,
          inject: [NatsClient, Topology, KvChannelStore, DeliveryAttemptHandler, LOGGER],
          useFactory: (c: NatsClient, t: Topology, store: KvChannelStore, attempts: DeliveryAttemptHandler, logger: AppLogger) =>
            new DeliveryRunners({ js: () => c.js, consumers: channelConsumers(t, () => c.jsm, c.names), n: c.names, store, attempts, logger }, config.NOTIFY_CHANNEL_CONCURRENCY),
        },
        {
          // The outbox stream and the fan-out consumer are ensured at boot (Topology), before the transport consumes it.
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

