/**
 * Fan-out: each notification in the outbox becomes one work message per channel on that
 * channel's delivery subject (Nats-Msg-Id `<id>:<channelId>`, so a fan-out repeated after a
 * crash adds nothing), then the notification is acknowledged. It runs on one durable consumer
 * shared by every alerting replica (Consumers.notificationFanout): each notification is
 * fanned out once. A channel that does not exist or is disabled gets a log entry instead of a
 * delivery. Settling: returning acks (the transport does it); a body that is not a notification
 * is terminated; any failure to fan out is nak'd to be tried again in RETRY_MS.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { type AlertNotification, ChannelIdSchema, type Names, type NotificationChannel } from '@sb/contracts';
import { encode, type SbContext } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import type { DeliveryAttemptHandler, DeliveryWork } from './delivery-attempt.handler';

const RETRY_MS = 1_000;

/** What the handler needs of the consumed message: settle it itself, and its stream sequence for the log. */
export type FanoutMessage = Pick<SbContext, 'nak' | 'term' | 'jsMsg'>;

export class FanoutHandler {
  constructor(
    private readonly js: () => JetStreamClient,
    private readonly n: Names,
    /** The channel as this replica knows it (watched cache, then the bucket). */
    private readonly lookup: (id: string) => Promise<NotificationChannel | undefined>,
    private readonly attempts: DeliveryAttemptHandler,
    private readonly logger: AppLogger,
  ) {}

  /** `body` is the decoded outbox message. Returns once every channel has its work message (the transport then acks). */
  async handle(body: unknown, m: FanoutMessage): Promise<void> {
    const n = asNotification(body);
    if (!n) {
      this.logger.warn({ seq: m.jsMsg?.seq }, 'outbox message is not a notification; dropped');
      m.term();
      return;
    }
    try {
      const ids = [...new Set(n.channelIds)];
      await Promise.all(ids.map((id) => this.fanOne(n, id)));
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
}

function asNotification(body: unknown): AlertNotification | undefined {
  const v = body as AlertNotification | undefined;
  if (typeof v?.id !== 'string' || !Array.isArray(v.channelIds) || !Array.isArray(v.alerts) || typeof v.kind !== 'string') return undefined;
  if (!v.channelIds.every((c) => typeof c === 'string')) return undefined;
  return v;
}
