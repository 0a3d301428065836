import type { NotificationChannel } from '@sb/contracts';
import { alertmanagerAlerts, alertmanagerUrl, formatFor, webhookBody } from './channel-formats';
import { pagerDutyEvent } from './pagerduty-format';
import { escapeSlack, SLACK_COLORS, slackMessage } from './slack-format';
import { alertEvent, notification } from './notification.fixture';

const channel = (over: Partial<NotificationChannel>): NotificationChannel => ({
  id: 'ch_a',
  name: 'ops',
  type: 'webhook',
  url: 'https://hooks.example.com/x',
  headers: {},
  timeoutMs: 5000,
  maxAttempts: 3,
  enabled: true,
  createdAt: '',
  updatedAt: '',
  ...over,
});

describe('webhook format', () => {
  it('is the notification plus version and this channel id (not the list of channels)', () => {
    const n = notification({ channelIds: ['ch_a', 'ch_b'] });
    const body = webhookBody('ch_a', n);
    const { channelIds: _ignored, ...rest } = n;
    expect(body).toEqual({ version: '1', channelId: 'ch_a', ...rest });
    expect(body).not.toHaveProperty('channelIds');
    expect(formatFor(channel({}), n)).toEqual({ url: 'https://hooks.example.com/x', body });
  });
});

describe('PagerDuty Events API v2', () => {
  it('triggers with dedup_key = group key, mapped severity and custom details', () => {
    const ev = pagerDutyEvent(notification({ severity: 'emergency', alerts: [alertEvent({ severity: 'emergency' })] }), 'R0UTINGKEY');
    expect(ev).toEqual({
      routing_key: 'R0UTINGKEY',
      event_action: 'trigger',
      dedup_key: 'g:{alertname="AgentDown"}',
      payload: {
        summary: '[FIRING] AgentDown (emergency): Agent a1 stopped heartbeating',
        source: 'node-7',
        severity: 'critical',
        timestamp: '2026-11-21T10:00:00.000Z',
        class: 'AgentDown',
        custom_details: {
          kind: 'firing',
          groupLabels: { alertname: 'AgentDown' },
          escalation: null,
          firing: 1,
          alerts: [
            {
              name: 'AgentDown',
              severity: 'emergency',
              state: 'firing',
              labels: { agent: 'a1', host: 'node-7' },
              annotations: { summary: 'Agent a1 stopped heartbeating' },
              value: 1,
              startsAt: '2026-11-21T10:00:00.000Z',
            },
          ],
        },
      },
      client: 'Switchboard',
    });
  });

  it.each([
    ['firing', 'trigger'],
    ['repeat', 'trigger'],
    ['escalated', 'trigger'],
    ['acknowledged', 'acknowledge'],
    ['resolved', 'resolve'],
  ] as const)('maps %s to %s, always with the group key as dedup_key', (kind, action) => {
    const ev = pagerDutyEvent(notification({ kind }), 'rk');
    expect(ev).toMatchObject({ routing_key: 'rk', event_action: action, dedup_key: 'g:{alertname="AgentDown"}' });
    if (action === 'trigger') expect(ev).toHaveProperty('payload');
    else expect(ev).toEqual({ routing_key: 'rk', event_action: action, dedup_key: 'g:{alertname="AgentDown"}' });
  });

  it.each([
    ['emergency', 'critical'],
    ['critical', 'error'],
    ['warning', 'warning'],
    ['info', 'info'],
  ] as const)('maps severity %s to %s', (severity, expected) => {
    expect(pagerDutyEvent(notification({ severity }), 'rk')).toMatchObject({ payload: { severity: expected } });
  });

  it('names the escalation level in the summary and uses the channel routing key', () => {
    const req = formatFor(channel({ type: 'pagerduty', url: 'https://events.pagerduty.com/v2/enqueue', routingKey: 'abc' }), notification({ kind: 'escalated', escalation: { policyId: 'p', level: 2 } }));
    expect(req.url).toBe('https://events.pagerduty.com/v2/enqueue');
    expect(req.body).toMatchObject({ routing_key: 'abc', payload: { summary: expect.stringMatching(/^\[ESCALATED L2\] AgentDown/) } });
  });
});

describe('Alertmanager API v2', () => {
  it('posts an array of {labels, annotations, startsAt, endsAt, generatorURL} to /api/v2/alerts', () => {
    const n = notification({ alerts: [alertEvent(), alertEvent({ fingerprint: 'fp2', labels: { agent: 'a2' }, state: 'resolved', endsAt: '2026-11-21T10:01:00.000Z' })] });
    expect(alertmanagerAlerts(n)).toEqual([
      {
        labels: { agent: 'a1', host: 'node-7', alertname: 'AgentDown', severity: 'critical' },
        annotations: { summary: 'Agent a1 stopped heartbeating', sb_notification: 'firing', sb_group_key: n.groupKey },
        startsAt: '2026-11-21T10:00:00.000Z',
        endsAt: '2026-11-22T10:00:06.000Z',
        generatorURL: 'urn:switchboard:alert-rule:rule_agent_down',
      },
      {
        labels: { agent: 'a2', alertname: 'AgentDown', severity: 'critical' },
        annotations: { summary: 'Agent a1 stopped heartbeating', sb_notification: 'firing', sb_group_key: n.groupKey },
        startsAt: '2026-11-21T10:00:00.000Z',
        endsAt: '2026-11-21T10:01:00.000Z',
        generatorURL: 'urn:switchboard:alert-rule:rule_agent_down',
      },
    ]);
  });

  it('ends every alert of a resolved notification, at its own end or the notification time', () => {
    const out = alertmanagerAlerts(notification({ kind: 'resolved', alerts: [alertEvent({ state: 'resolved', endsAt: null })] }));
    expect(out[0].endsAt).toBe('2026-11-21T10:00:06.000Z');
  });

  it('appends /api/v2/alerts to a base URL only once', () => {
    expect(alertmanagerUrl('http://am:9093')).toBe('http://am:9093/api/v2/alerts');
    expect(alertmanagerUrl('http://am:9093/prefix/')).toBe('http://am:9093/prefix/api/v2/alerts');
    expect(alertmanagerUrl('http://am:9093/api/v2/alerts')).toBe('http://am:9093/api/v2/alerts');
  });
});

describe('Slack format', () => {
  it('has text, a header block and an attachment coloured by severity listing the alerts', () => {
    const msg = slackMessage(notification({ alerts: [alertEvent(), alertEvent({ fingerprint: 'fp2', annotations: { summary: 'a<b & c>d' } })] }));
    expect(msg).toEqual({
      text: '[FIRING:2] AgentDown (critical)',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: '[FIRING:2] AgentDown (critical)', emoji: false } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: '*Severity:* critical  ·  *Group:* g:{alertname="AgentDown"}' }] },
      ],
      attachments: [
        {
          color: SLACK_COLORS.critical,
          fallback: '[FIRING:2] AgentDown (critical)',
          blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '• Agent a1 stopped heartbeating\n• a&lt;b &amp; c&gt;d' } }],
        },
      ],
    });
  });

  it('is green when resolved, grey when acknowledged, and names who acknowledged', () => {
    expect(slackMessage(notification({ kind: 'resolved' })).attachments[0].color).toBe(SLACK_COLORS.resolved);
    const acked = slackMessage(notification({ kind: 'acknowledged', alerts: [alertEvent({ state: 'acknowledged', acknowledgedBy: 'alice' })] }));
    expect(acked.attachments[0].color).toBe(SLACK_COLORS.acknowledged);
    expect(acked.blocks[1]).toMatchObject({ elements: [{ text: expect.stringContaining('*Acknowledged by:* alice') }] });
    expect(acked.text).toBe('[ACKNOWLEDGED] AgentDown (critical)');
  });

  it.each(['info', 'warning', 'critical', 'emergency'] as const)('colours %s by its severity', (severity) => {
    expect(slackMessage(notification({ severity })).attachments[0].color).toBe(SLACK_COLORS[severity]);
  });

  it('lists at most 10 alerts and says how many more there are', () => {
    const alerts = Array.from({ length: 13 }, (_, i) => alertEvent({ fingerprint: `f${i}`, annotations: { summary: `s${i}` } }));
    const text = slackMessage(notification({ alerts })).attachments[0].blocks[0].text.text;
    expect(text.split('\n')).toHaveLength(11);
    expect(text).toMatch(/…and 3 more$/);
    expect(escapeSlack('<!channel>')).toBe('&lt;!channel&gt;');
  });
});
