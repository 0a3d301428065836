/** What every channel format shares: the request a format produces, and a notification's title. */
import type { AlertEvent, AlertNotification, NotificationKind } from '@sb/contracts';

export interface OutgoingRequest {
  url: string;
  body: unknown;
}

const KIND_LABEL: Record<NotificationKind, string> = {
  firing: 'FIRING',
  repeat: 'FIRING',
  escalated: 'ESCALATED',
  acknowledged: 'ACKNOWLEDGED',
  resolved: 'RESOLVED',
};

/** The group's alert name: `alertname` when grouped by it, else the first alert's name. */
export function alertNameOf(n: AlertNotification): string {
  return n.groupLabels.alertname ?? n.alerts[0]?.name ?? 'alert';
}

export function firingAlerts(n: AlertNotification): AlertEvent[] {
  return n.alerts.filter((a) => a.state !== 'resolved');
}

/** `[FIRING:2] AgentDown (critical) agent=a1` — the one line every format leads with. */
export function titleOf(n: AlertNotification): string {
  const count = (n.kind === 'resolved' ? n.alerts.length : firingAlerts(n).length) + (n.truncatedAlerts ?? 0);
  const level = n.kind === 'escalated' && n.escalation ? ` L${n.escalation.level}` : '';
  const label = `${KIND_LABEL[n.kind]}${level}${count > 1 ? `:${count}` : ''}`;
  const groups = Object.entries(n.groupLabels)
    .filter(([k]) => k !== 'alertname')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const repeat = n.kind === 'repeat' ? ' (reminder)' : '';
  return `[${label}] ${alertNameOf(n)} (${n.severity})${groups ? ` ${groups}` : ''}${repeat}`;
}

/** One alert in a line: its summary or description annotation, else its name and labels. */
export function describeAlert(a: AlertEvent): string {
  const text = a.annotations.summary ?? a.annotations.description;
  if (text) return text;
  const labels = Object.entries(a.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return labels ? `${a.name} {${labels}}` : a.name;
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
