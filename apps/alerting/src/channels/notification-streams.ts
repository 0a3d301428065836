/**
 * A notification channel's own delivery consumer (`Durables.notificationDelivery` in
 * libs/contracts topology.ts), made with the channel and dropped with it, pending deliveries
 * and all. The streams behind delivery, and the fan-out consumer, are declared there too:
 *  - outbox (limits): every AlertNotification, deduplicated by its id (Nats-Msg-Id);
 *  - deliveries (work queue): one message per notification and channel, on the channel's own
 *    subject, so a dead or slow receiver only ever holds up its own deliveries;
 *  - log (limits): every attempt, at most NOTIFY_LOG_PER_CHANNEL per channel.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Names } from '@sb/contracts';
import type { Topology } from '@sb/messaging';
import type { ChannelLifecycle } from './channels.handler';

export function channelConsumers(topology: Pick<Topology, 'ensureDurable' | 'removeDurable'>, jsm: () => JetStreamManager, n: Names): ChannelLifecycle {
  return {
    created: (channelId) => topology.ensureDurable('notificationDelivery', { channelId }),
    deleted: async (channelId) => {
      await topology.removeDurable('notificationDelivery', { channelId });
      await jsm().streams.purge(n.channels.deliveryStream, { filter: n.channels.delivery(channelId) });
    },
  };
}
