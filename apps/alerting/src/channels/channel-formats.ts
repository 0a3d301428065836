/**
 * Turns an AlertNotification into the request a channel type expects. Pure functions: the
 * unit tests pin every shape.
 *  - webhook: the notification as JSON plus `version` (and this channel's id instead of the list).
 *  - alertmanager: Alertmanager API v2 `POST /api/v2/alerts`, an array of alerts.
 *  - slack / pagerduty: see slack-format.ts and pagerduty-format.ts.
 */
import type { AlertNotification, NotificationChannel } from '@sb/contracts';
import type { OutgoingRequest } from './format-common';
import { pagerDutyEvent, PAGERDUTY_SEVERITY } from './pagerduty-format';
import { slackMessage } from './slack-format';

export const WEBHOOK_FORMAT_VERSION = '1';
/** A firing alert sent to Alertmanager ends this long after the notification unless a later one extends or resolves it. */
export const ALERTMANAGER_FIRING_HORIZON_MS = 24 * 3600_000;
export { PAGERDUTY_SEVERITY };

export function formatFor(channel: NotificationChannel, n: AlertNotification): OutgoingRequest {
  switch (channel.type) {
    case 'webhook':
      return { url: channel.url, body: webhookBody(channel.id, n) };
    case 'slack':
      return { url: channel.url, body: slackMessage(n) };
    case 'pagerduty':
      return { url: channel.url, body: pagerDutyEvent(n, channel.routingKey ?? '') };
    case 'alertmanager':
      return { url: alertmanagerUrl(channel.url), body: alertmanagerAlerts(n) };
  }
}

export function webhookBody(channelId: string, n: AlertNotification) {
  const { channelIds: _all, ...rest } = n;
  return { version: WEBHOOK_FORMAT_VERSION, channelId, ...rest };
}

export function alertmanagerUrl(base: string): string {
  const u = new URL(base);
  if (!u.pathname.endsWith('/api/v2/alerts')) u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/v2/alerts`;
  return u.toString();
}

export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

/** One entry per alert of the group; labels gain `alertname` and `severity` as Alertmanager expects. */
export function alertmanagerAlerts(n: AlertNotification): AlertmanagerAlert[] {
  const horizon = new Date(Date.parse(n.createdAt) + ALERTMANAGER_FIRING_HORIZON_MS).toISOString();
  return n.alerts.map((a) => {
    const annotations: Record<string, string> = { ...a.annotations, sb_notification: n.kind, sb_group_key: n.groupKey };
    if (a.acknowledgedBy) annotations.sb_acknowledged_by = a.acknowledgedBy;
    if (n.escalation) annotations.sb_escalation_level = String(n.escalation.level);
    const resolved = a.state === 'resolved' || n.kind === 'resolved';
    return {
      labels: { ...a.labels, alertname: a.name, severity: a.severity },
      annotations,
      startsAt: a.startsAt,
      endsAt: resolved ? (a.endsAt ?? n.createdAt) : horizon,
      generatorURL: a.annotations.generatorURL ?? `urn:switchboard:alert-rule:${encodeURIComponent(a.source)}`,
    };
  });
}
