/** Test notifications (used by this folder's unit and int tests). */
import type { AlertEvent, AlertNotification } from '@sb/contracts';

export function alertEvent(over: Partial<AlertEvent> = {}): AlertEvent {
  return {
    fingerprint: 'fp1',
    name: 'AgentDown',
    severity: 'critical',
    state: 'firing',
    labels: { agent: 'a1', host: 'node-7' },
    annotations: { summary: 'Agent a1 stopped heartbeating' },
    source: 'rule_agent_down',
    value: 1,
    startsAt: '2026-11-21T10:00:00.000Z',
    endsAt: null,
    at: '2026-11-21T10:00:05.000Z',
    ...over,
  };
}

export function notification(over: Partial<AlertNotification> = {}): AlertNotification {
  return {
    id: 'n1',
    kind: 'firing',
    groupKey: 'g:{alertname="AgentDown"}',
    groupLabels: { alertname: 'AgentDown' },
    severity: 'critical',
    channelIds: ['ch_a'],
    alerts: [alertEvent()],
    escalation: null,
    createdAt: '2026-11-21T10:00:06.000Z',
    ...over,
  };
}
