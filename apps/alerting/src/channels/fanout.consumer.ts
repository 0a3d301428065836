/**
 * Fan-out: each notification in the outbox becomes one work message per channel on that
 * channel's delivery subject (Nats-Msg-Id `<id>:<channelId>`, so a fan-out repeated after a
 * crash adds nothing), then the notification is acknowledged. One durable consumer shared by
 * every alerting replica: each notification is fanned out once. A channel that does not exist
 * or is disabled gets a log entry instead of a delivery.
 */
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { type AlertNotification, ChannelIdSchema, type Names, type NotificationChannel } from '@sb/contracts';
import { encode } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import type { DeliveryAttemptHandler, DeliveryWork } from './delivery-attempt.handler';

const RETRY_MS = 1_000;
const dec = new TextDecoder();

export class FanoutConsumer {
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;

  constructor(
    private readonly js: () => JetStreamClient,
    private readonly n: Names,
    /** The channel as this replica knows it (watched cache, then the bucket). */
    private readonly lookup: (id: string) => Promise<NotificationChannel | undefined>,
    private readonly attempts: DeliveryAttemptHandler,
    private readonly logger: AppLogger,
  ) {}

  async start(): Promise<void> {
    const consumer = await this.js().consumers.get(this.n.channels.outboxStream, this.n.channels.fanoutConsumer);
    const messages = await consumer.consume({ max_messages: 64 });
    this.messages = messages;
    this.loop = (async () => {
      for await (const m of messages) await this.handle(m);
    })().catch((err: unknown) => this.logger.error({ err }, 'notification fan-out stopped'));
  }

  private async handle(m: JsMsg): Promise<void> {
    const n = parseNotification(m.data);
    if (!n) {
      this.logger.warn({ seq: m.seq }, 'outbox message is not a notification; dropped');
      m.term();
      return;
    }
    try {
      const ids = [...new Set(n.channelIds)];
      await Promise.all(ids.map((id) => this.fanOne(n, id)));
      m.ack();
    } catch (err) {
      this.logger.warn({ err, notificationId: n.id }, 'fan-out failed; retrying');
      m.nak(RETRY_MS);
    }
  }

  private async fanOne(n: AlertNotification, channelId: string): Promise<void> {
    if (!ChannelIdSchema.safeParse(channelId).success) {
      this.logger.warn({ notificationId: n.id, channelId: channelId.slice(0, 80) }, 'notification names an invalid channel id; skipped');
      return;
    }
    const work: DeliveryWork = { channelId, notification: n };
    const channel = await this.lookup(channelId);
    if (!channel || !channel.enabled) {
      // Recorded (dropped / skipped) rather than queued for a consumer that will never come.
      await this.attempts.handle(channel, work, 1);
      return;
    }
    await this.js().publish(this.n.channels.delivery(channelId), encode(work), { msgID: `${n.id}:${channelId}` });
  }

  async stop(): Promise<void> {
    await this.messages?.close().catch(() => undefined);
    await this.loop;
  }
}

function parseNotification(data: Uint8Array): AlertNotification | undefined {
  try {
    const v = JSON.parse(dec.decode(data)) as AlertNotification;
    if (typeof v?.id !== 'string' || !Array.isArray(v.channelIds) || !Array.isArray(v.alerts) || typeof v.kind !== 'string') return undefined;
    if (!v.channelIds.every((c) => typeof c === 'string')) return undefined;
    return v;
  } catch {
    return undefined;
  }
}
