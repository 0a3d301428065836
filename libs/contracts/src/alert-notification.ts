/**
 * What the alerting engine hands to its notification channels: one message per decision to
 * notify (a group's first notification, a repeat, an escalation to the next level, an ack, a
 * resolve). The engine decides when and to whom; the channels decide how (formats, retries,
 * delivery log). `id` is deterministic for the decision so a replica repeating it is deduplicated.
 */
import type { AlertEvent, Labels } from './fleet-schemas';
import type { Severity } from './subjects';

export const NOTIFICATION_KINDS = ['firing', 'repeat', 'escalated', 'acknowledged', 'resolved'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface AlertNotification {
  /** Dedupe key for this decision (used as `Nats-Msg-Id`). */
  id: string;
  kind: NotificationKind;
  /** Stable per alert group: PagerDuty's `dedup_key`, Alertmanager's group key. */
  groupKey: string;
  groupLabels: Labels;
  /** Highest severity among `alerts`. */
  severity: Severity;
  /** Notification channel ids to deliver to (each delivered and retried independently). */
  channelIds: string[];
  alerts: AlertEvent[];
  /** Alerts of the group this notification stands for but does not list (it lists at most 200, firing first). */
  truncatedAlerts?: number;
  escalation: { policyId: string; level: number; levelName?: string } | null;
  createdAt: string;
}
