/**
 * Slack incoming-webhook message: `text` (the notification line, also the push-notification
 * fallback), `blocks` (header and context), and one attachment coloured by severity (green
 * when resolved, grey when acknowledged) listing the alerts.
 */
import type { AlertNotification, Severity } from '@sb/contracts';
import { describeAlert, titleOf, truncate } from './format-common';

export const SLACK_COLORS: Record<Severity | 'resolved' | 'acknowledged', string> = {
  info: '#439FE0',
  warning: '#ECB22E',
  critical: '#E01E5A',
  emergency: '#8B0000',
  resolved: '#2EB67D',
  acknowledged: '#9E9E9E',
};
const MAX_ALERTS_LISTED = 10;

/** Slack's mrkdwn control characters. */
export function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackColor(n: AlertNotification): string {
  if (n.kind === 'resolved') return SLACK_COLORS.resolved;
  if (n.kind === 'acknowledged') return SLACK_COLORS.acknowledged;
  return SLACK_COLORS[n.severity];
}

export function slackMessage(n: AlertNotification) {
  const title = titleOf(n);
  const context: string[] = [`*Severity:* ${n.severity}`, `*Group:* ${escapeSlack(n.groupKey)}`];
  if (n.escalation) context.push(`*Escalation:* ${escapeSlack(n.escalation.levelName ?? `level ${n.escalation.level}`)}`);
  const acked = n.alerts.find((a) => a.acknowledgedBy)?.acknowledgedBy;
  if (acked) context.push(`*Acknowledged by:* ${escapeSlack(acked)}`);
  const lines = n.alerts.slice(0, MAX_ALERTS_LISTED).map((a) => `• ${a.state === 'resolved' ? '~' : ''}${escapeSlack(truncate(describeAlert(a), 300))}${a.state === 'resolved' ? '~' : ''}`);
  const more = Math.max(0, n.alerts.length - MAX_ALERTS_LISTED) + (n.truncatedAlerts ?? 0);
  if (more > 0) lines.push(`…and ${more} more`);
  return {
    text: escapeSlack(title),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(title, 150), emoji: false } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: context.join('  ·  ') }] },
    ],
    attachments: [
      {
        color: slackColor(n),
        fallback: escapeSlack(title),
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(lines.join('\n') || '(no alerts)', 3000) } }],
      },
    ],
  };
}
