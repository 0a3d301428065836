/**
 * The three streams behind notification delivery, and the per-channel work consumers.
 *  - outbox (limits, file): every AlertNotification, deduplicated by its id (Nats-Msg-Id).
 *  - deliveries (work queue, file): one message per notification and channel, on the channel's
 *    own subject, deduplicated by `<notification id>:<channel id>`; each channel has its own
 *    durable consumer, so a dead or slow receiver only ever holds up its own deliveries.
 *  - log (limits, file): every attempt, at most NOTIFY_LOG_PER_CHANNEL per channel.
 */
import { AckPolicy, DeliverPolicy, DiscardPolicy, type JetStreamManager, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import type { Names } from '@sb/contracts';
import { ensureStream } from '@sb/messaging';

const NANOS_PER_MS = 1_000_000;
/** A delivery's HTTP attempt is at most 30 s; twice that before the server hands it to another replica. */
export const DELIVERY_ACK_WAIT_MS = 60_000;

export interface NotificationStreamSettings {
  replicas: number;
  dedupeWindowMs: number;
  retentionMs: number;
  logPerChannel: number;
  logMaxAgeMs: number;
}

type Cfg = Partial<StreamConfig> & { name: string };

export function notificationStreamConfigs(n: Names, s: NotificationStreamSettings): Record<'outbox' | 'deliveries' | 'log', Cfg> {
  const window = s.dedupeWindowMs * NANOS_PER_MS;
  return {
    outbox: {
      name: n.channels.outboxStream,
      subjects: [n.channels.outbox],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: s.replicas,
      max_age: Math.max(s.retentionMs, s.dedupeWindowMs) * NANOS_PER_MS,
      duplicate_window: window,
      discard: DiscardPolicy.Old,
    },
    deliveries: {
      name: n.channels.deliveryStream,
      subjects: [n.channels.deliveryAll],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: s.replicas,
      duplicate_window: window,
      discard: DiscardPolicy.Old,
    },
    log: {
      name: n.channels.logStream,
      subjects: [n.channels.logAll],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: s.replicas,
      max_age: s.logMaxAgeMs * NANOS_PER_MS,
      max_msgs_per_subject: s.logPerChannel,
      discard: DiscardPolicy.Old,
    },
  };
}

export async function ensureNotificationStreams(jsm: JetStreamManager, n: Names, s: NotificationStreamSettings): Promise<void> {
  const cfg = notificationStreamConfigs(n, s);
  await Promise.all([ensureStream(jsm, cfg.outbox), ensureStream(jsm, cfg.deliveries), ensureStream(jsm, cfg.log)]);
}

/**
 * The fan-out consumer, shared by every replica. Created to start at `now - dedupe window`: if
 * it is ever recreated, what it replays is still deduplicated downstream.
 */
export async function ensureFanoutConsumer(jsm: JetStreamManager, n: Names, dedupeWindowMs: number, now = Date.now()): Promise<void> {
  await ensureDurable(jsm, n.channels.outboxStream, n.channels.fanoutConsumer, {
    durable_name: n.channels.fanoutConsumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(now - dedupeWindowMs).toISOString(),
    ack_wait: 30_000 * NANOS_PER_MS,
    max_ack_pending: 1_000,
  });
}

/** One channel's work consumer. Retries wait as naks with a delay, so max_ack_pending must leave room for many. */
export async function ensureDeliveryConsumer(jsm: JetStreamManager, n: Names, channelId: string): Promise<void> {
  const name = n.channels.deliveryConsumer(channelId);
  await ensureDurable(jsm, n.channels.deliveryStream, name, {
    durable_name: name,
    filter_subject: n.channels.delivery(channelId),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: DELIVERY_ACK_WAIT_MS * NANOS_PER_MS,
    max_ack_pending: 10_000,
  });
}

/** Drop a deleted channel's consumer and its pending deliveries. */
export async function removeDeliveryConsumer(jsm: JetStreamManager, n: Names, channelId: string): Promise<void> {
  await jsm.consumers.delete(n.channels.deliveryStream, n.channels.deliveryConsumer(channelId)).catch((e: unknown) => {
    if (!/not found/i.test((e as Error).message)) throw e;
  });
  await jsm.streams.purge(n.channels.deliveryStream, { filter: n.channels.delivery(channelId) });
}

async function ensureDurable(jsm: JetStreamManager, stream: string, name: string, config: Parameters<JetStreamManager['consumers']['add']>[1]): Promise<void> {
  try {
    await jsm.consumers.info(stream, name);
  } catch {
    try {
      await jsm.consumers.add(stream, config);
    } catch (e) {
      if (!/already|exists/i.test((e as Error).message)) throw e;
    }
  }
}
