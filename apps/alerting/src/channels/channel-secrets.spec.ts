import type { NotificationChannel } from '@sb/contracts';
import { maskUrl, maskValue, redact, secretsOf, toView } from './channel-secrets';

const c = (over: Partial<NotificationChannel>): NotificationChannel => ({
  id: 'ch_1',
  name: 'n',
  type: 'webhook',
  url: 'https://user:pa55word@hooks.example.com/in/abcdefghijklmnopqrstuvwx?token=s3cr3t-token&x=1',
  headers: { Authorization: 'Bearer very-secret-header-value' },
  timeoutMs: 1000,
  maxAttempts: 3,
  enabled: true,
  createdAt: '',
  updatedAt: '',
  ...over,
});

describe('channel secrets', () => {
  it('masks header values, routing keys, URL credentials, query values and token-like path segments', () => {
    const v = toView(c({ type: 'pagerduty', routingKey: 'R0123456789abcdefXYZ' }));
    expect(v.url).toBe('https://****@hooks.example.com/in/****?token=****&x=****');
    expect(v.headers).toEqual({ Authorization: '****alue' });
    expect(v.routingKey).toBe('****fXYZ');
    const json = JSON.stringify(v);
    for (const secret of ['pa55word', 'abcdefghijklmnopqrstuvwx', 's3cr3t-token', 'very-secret-header-value', 'R0123456789abcdef']) expect(json).not.toContain(secret);
  });

  it("masks a Slack webhook's whole path", () => {
    expect(maskUrl('https://hooks.slack.com/services/T000/B000/XXXX', true)).toBe('https://hooks.slack.com/****');
    expect(maskUrl('http://127.0.0.1:9000/hook', false)).toBe('http://127.0.0.1:9000/hook');
    expect(maskValue('short')).toBe('****');
  });

  it('removes every secret from an error text', () => {
    const ch = c({});
    const text = `POST ${ch.url} failed; header Bearer very-secret-header-value; token s3cr3t-token`;
    const out = redact(text, secretsOf(ch));
    for (const secret of ['pa55word', 's3cr3t-token', 'very-secret-header-value', 'abcdefghijklmnopqrstuvwx']) expect(out).not.toContain(secret);
  });
});
