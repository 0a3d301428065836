/**
 * The NotificationOutbox on JetStream: a notification is accepted once the outbox stream has
 * acknowledged it. `Nats-Msg-Id` is the notification id, so the same decision enqueued by two
 * replicas (or retried after a lost ack) is stored once within the dedupe window.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { AlertNotification, Names } from '@sb/contracts';
import { encode } from '@sb/messaging';
import type { NotificationOutbox } from './notification-outbox';

export class JetStreamOutbox implements NotificationOutbox {
  constructor(
    private readonly js: () => JetStreamClient,
    private readonly n: Names,
  ) {}

  async enqueue(notification: AlertNotification): Promise<void> {
    if (typeof notification?.id !== 'string' || notification.id.length === 0) throw new TypeError('a notification needs an id');
    await this.js().publish(this.n.channels.outbox, encode(notification), { msgID: notification.id });
  }
}
