import type { DeliveryRecord, NotificationChannel } from '@sb/contracts';
import { createLogger } from '@sb/observability';
import { DeliveryAttemptHandler, MAX_SNIPPET_CHARS } from './delivery-attempt.handler';
import { signBody } from './webhook-signature';
import type { GroupProgressPort } from './group-progress';
import type { HttpPort, SendResult } from './http-sender';
import { notification } from './notification.fixture';

const channel = (over: Partial<NotificationChannel> = {}): NotificationChannel => ({
  id: 'ch_a',
  name: 'ops',
  type: 'pagerduty',
  url: 'https://events.example.com/v2/enqueue?token=query-secret-123',
  headers: { 'X-Api-Key': 'header-secret-value-1' },
  routingKey: 'routing-key-secret-1',
  timeoutMs: 1000,
  maxAttempts: 3,
  enabled: true,
  createdAt: '',
  updatedAt: '',
  ...over,
});

function setup(result: SendResult) {
  const newest = new Map<string, string>();
  const progress: GroupProgressPort = {
    latest: async (c, g) => newest.get(`${c}/${g}`),
    delivered: async (c, g, at) => void ((newest.get(`${c}/${g}`) ?? '') < at && newest.set(`${c}/${g}`, at)),
  };
  const sent: { url: string; body: string; headers: Record<string, string>; timeoutMs: number }[] = [];
  const http: HttpPort = { post: async (url, body, headers, timeoutMs) => (sent.push({ url, body, headers, timeoutMs }), result) };
  const records: DeliveryRecord[] = [];
  const counted: string[] = [];
  const handler = new DeliveryAttemptHandler(
    http,
    { append: async (r) => void records.push(r) },
    { record: (type, outcome) => void counted.push(`${type}/${outcome}`) },
    { baseMs: 100, maxMs: 10_000 },
    createLogger('test', 'silent'),
    progress,
    () => new Date('2026-11-21T10:00:00Z'),
    () => 0,
  );
  return { handler, sent, records, counted, newest };
}
const work = { channelId: 'ch_a', notification: notification() };

describe('DeliveryAttemptHandler', () => {
  it('posts the formatted body with the channel headers and timeout, acks on 2xx and records it', async () => {
    const { handler, sent, records, counted } = setup({ kind: 'response', status: 202 });
    expect(await handler.handle(channel(), work, 1)).toEqual({ action: 'ack' });
    expect(sent).toEqual([{ url: channel().url, body: expect.any(String), headers: { 'X-Api-Key': 'header-secret-value-1' }, timeoutMs: 1000 }]);
    expect(JSON.parse(sent[0].body as string)).toMatchObject({ routing_key: 'routing-key-secret-1', event_action: 'trigger', dedup_key: work.notification.groupKey });
    expect(records).toEqual([expect.objectContaining({ notificationId: 'n1', channelId: 'ch_a', channelType: 'pagerduty', kind: 'firing', attempt: 1, maxAttempts: 3, outcome: 'delivered', status: 202, error: null, retryInMs: null, at: '2026-11-21T10:00:00.000Z' })]);
    expect(counted).toEqual(['pagerduty/delivered']);
  });

  it('naks a 5xx with the backoff delay, and gives up at the last attempt', async () => {
    const { handler, records } = setup({ kind: 'response', status: 503, snippet: 'busy' });
    // backoffMs at attempt 2 with the lowest jitter: 100 · 2 · 0.8.
    expect(await handler.handle(channel(), work, 2)).toEqual({ action: 'nak', delayMs: 160 });
    expect(await handler.handle(channel(), work, 3)).toEqual({ action: 'term' });
    expect(records.map((r) => [r.outcome, r.status, r.error, r.retryInMs])).toEqual([
      ['retrying', 503, 'HTTP 503: busy', 160],
      ['gave_up', 503, 'HTTP 503: busy', null],
    ]);
  });

  it('terms a 4xx at once (permanent) and keeps secrets out of the recorded error', async () => {
    const { handler, records } = setup({ kind: 'response', status: 400, snippet: 'invalid routing key routing-key-secret-1 for query-secret-123' });
    expect(await handler.handle(channel(), work, 1)).toEqual({ action: 'term' });
    expect(records[0]).toMatchObject({ outcome: 'failed', status: 400 });
    expect(records[0].error).not.toMatch(/routing-key-secret-1|query-secret-123/);
  });

  it('keeps a status and at most a short snippet of what the target answered, never more', async () => {
    const body = `ERR ${'x'.repeat(200)} root:secret-in-the-body`;
    const { handler, records } = setup({ kind: 'response', status: 500, snippet: body });
    await handler.handle(channel(), work, 3);
    expect(records[0].error).toBe(`HTTP 500: ${body.slice(0, MAX_SNIPPET_CHARS)}`);
    expect(records[0].error).not.toContain('secret-in-the-body');
  });

  it('terms a target the SSRF guard refused (permanent: no retry), recording why and no status', async () => {
    const { handler, records } = setup({ kind: 'refused', message: 'refused: 127.0.0.1 is not a public address (loopback) and not in ALERTING_WEBHOOK_ALLOW' });
    expect(await handler.handle(channel(), work, 1)).toEqual({ action: 'term' });
    expect(records[0]).toMatchObject({ outcome: 'failed', status: null, error: expect.stringMatching(/^refused: 127\.0\.0\.1 .*loopback/) });
  });

  it('does not send to a disabled or deleted channel, or past maxAttempts', async () => {
    const { handler, sent, records } = setup({ kind: 'response', status: 200 });
    expect(await handler.handle(channel({ enabled: false }), work, 1)).toEqual({ action: 'term' });
    expect(await handler.handle(undefined, work, 1)).toEqual({ action: 'term' });
    expect(await handler.handle(channel(), work, 4)).toEqual({ action: 'term' });
    expect(sent).toHaveLength(0);
    expect(records.map((r) => r.outcome)).toEqual(['skipped', 'dropped', 'gave_up']);
  });

  it('does not send a notification older than one already delivered for the same group (a late trigger after a resolve)', async () => {
    const { handler, sent, records, newest } = setup({ kind: 'response', status: 202 });
    const resolve = { channelId: 'ch_a', notification: notification({ id: 'n2', kind: 'resolved', createdAt: '2026-11-21T10:05:00.000Z' }) };
    expect(await handler.handle(channel(), resolve, 1)).toEqual({ action: 'ack' });
    expect(newest.get('ch_a/g:{alertname="AgentDown"}')).toBe('2026-11-21T10:05:00.000Z');
    expect(await handler.handle(channel(), work, 2)).toEqual({ action: 'term' });
    expect(sent).toHaveLength(1);
    expect(records.map((r) => [r.notificationId, r.outcome])).toEqual([
      ['n2', 'delivered'],
      ['n1', 'superseded'],
    ]);
    // Another group, or another channel, is unaffected.
    expect(await handler.handle(channel({ id: 'ch_b' }), { ...work, channelId: 'ch_b' }, 1)).toEqual({ action: 'ack' });
  });

  it('signs a webhook body with HMAC-SHA256 over "<timestamp>.<body>" when the channel has a signing secret', async () => {
    const { handler, sent } = setup({ kind: 'response', status: 204 });
    const secret = 'whsec_0123456789abcdef';
    await handler.handle(channel({ type: 'webhook', url: 'https://h/x', routingKey: undefined, signingSecret: secret }), work, 1);
    const ts = Math.floor(Date.parse('2026-11-21T10:00:00Z') / 1000);
    expect(sent[0].headers).toEqual({ 'X-Api-Key': 'header-secret-value-1', 'X-Switchboard-Timestamp': String(ts), 'X-Switchboard-Signature': signBody(secret, ts, sent[0].body) });
    expect(signBody(secret, ts, sent[0].body)).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(signBody(secret, ts, `${sent[0].body} `)).not.toBe(signBody(secret, ts, sent[0].body));
  });
});
