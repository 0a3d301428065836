/**
 * The seam between the alerting engine and the notification channels. The engine calls
 * `enqueue` once per decision; the implementation stores it durably (JetStream, deduplicated by
 * `id`) and delivers to each channel with its own retries, so a dead receiver never blocks a
 * live one and a restart never loses or repeats a delivery.
 */
import type { AlertNotification } from '@sb/contracts';

export interface NotificationOutbox {
  /** Resolves once the notification is durably accepted (not delivered). Same `id` twice → stored once. */
  enqueue(notification: AlertNotification): Promise<void>;
}
export const NOTIFICATION_OUTBOX = Symbol('NOTIFICATION_OUTBOX');
