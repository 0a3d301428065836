/**
 * PagerDuty Events API v2. One PagerDuty incident per alert group: `dedup_key` is the group
 * key, so a trigger, its repeats and escalations update one incident, an acknowledgement
 * acknowledges it and a resolve resolves it.
 *
 * Kinds: firing, repeat, escalated → trigger; acknowledged → acknowledge; resolved → resolve.
 * Severities: emergency → critical, critical → error, warning → warning, info → info (four
 * levels stay four; PagerDuty's severity-based urgency pages high for critical and error).
 */
import type { AlertNotification, NotificationKind, Severity } from '@sb/contracts';
import { alertNameOf, describeAlert, firingAlerts, titleOf, truncate } from './format-common';

export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';
export const PAGERDUTY_ACTION: Record<NotificationKind, PagerDutyAction> = {
  firing: 'trigger',
  repeat: 'trigger',
  escalated: 'trigger',
  acknowledged: 'acknowledge',
  resolved: 'resolve',
};
export const PAGERDUTY_SEVERITY: Record<Severity, 'critical' | 'error' | 'warning' | 'info'> = {
  emergency: 'critical',
  critical: 'error',
  warning: 'warning',
  info: 'info',
};
const MAX_DETAILED_ALERTS = 20;

export function pagerDutyEvent(n: AlertNotification, routingKey: string) {
  const event_action = PAGERDUTY_ACTION[n.kind];
  const base = { routing_key: routingKey, event_action, dedup_key: n.groupKey };
  // acknowledge and resolve address the incident by dedup_key; PagerDuty ignores a payload on them.
  if (event_action !== 'trigger') return base;
  const first = firingAlerts(n)[0] ?? n.alerts[0];
  return {
    ...base,
    payload: {
      summary: truncate(first && n.alerts.length === 1 ? `${titleOf(n)}: ${describeAlert(first)}` : titleOf(n), 1024),
      source: first?.labels.host ?? first?.labels.agent ?? first?.labels.agentId ?? 'switchboard',
      severity: PAGERDUTY_SEVERITY[n.severity],
      timestamp: first?.startsAt ?? n.createdAt,
      class: alertNameOf(n),
      custom_details: {
        kind: n.kind,
        groupLabels: n.groupLabels,
        escalation: n.escalation,
        firing: firingAlerts(n).length,
        alerts: n.alerts.slice(0, MAX_DETAILED_ALERTS).map((a) => ({
          name: a.name,
          severity: a.severity,
          state: a.state,
          labels: a.labels,
          annotations: a.annotations,
          value: a.value,
          startsAt: a.startsAt,
        })),
      },
    },
    client: 'Switchboard',
  };
}
