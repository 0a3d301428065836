import type { SecurityEvent } from '@sb/contracts';
import { buildSecurityReport } from './security-report';

const ev = (e: Partial<SecurityEvent>): SecurityEvent => ({ type: 'invalid_credentials', at: '2026-01-01T00:00:00Z', transport: 'http', ...e }) as SecurityEvent;

describe('security report', () => {
  it('counts by type and tenant and ranks the offending keys', () => {
    const events = [
      ev({ type: 'invalid_credentials', keyPrefix: 'sbk_AAAA', keyLast4: 'wxyz' }),
      ev({ type: 'invalid_credentials', keyPrefix: 'sbk_AAAA', keyLast4: 'wxyz' }),
      ev({ type: 'forbidden', tenantId: 'tn_a', keyId: 'key_1' }),
      ev({ type: 'forbidden', tenantId: 'tn_a', keyId: 'key_1' }),
      ev({ type: 'forbidden', tenantId: 'tn_a', keyId: 'key_1' }),
      ev({ type: 'rate_limited', tenantId: 'tn_b', keyId: 'key_2' }),
      ev({ type: 'invalid_credentials' }),
    ];
    const r = buildSecurityReport(events, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-02T00:00:00Z'), 2);
    expect(r.total).toBe(7);
    expect(r.byType).toEqual({ invalid_credentials: 3, forbidden: 3, rate_limited: 1 });
    expect(r.byTenant).toEqual({ tn_a: 3, tn_b: 1 });
    expect(r.topKeys).toEqual([
      { key: 'key_1', keyId: 'key_1', count: 3 },
      { key: 'sbk_AAAA…wxyz', keyPrefix: 'sbk_AAAA', keyLast4: 'wxyz', count: 2 },
    ]);
  });

  it('counts an aggregated event as the refusals it stands for', () => {
    const events = [ev({ type: 'invalid_credentials', source: 'ip:203.0.113.9', count: 480 }), ev({ type: 'rate_limited', source: 'ip:203.0.113.9', count: 4_520 }), ev({ type: 'forbidden', tenantId: 'tn_a', keyId: 'key_1', count: 3 })];
    const r = buildSecurityReport(events, new Date(0), new Date(1));
    expect(r).toMatchObject({ total: 5_003, byType: { invalid_credentials: 480, rate_limited: 4_520, forbidden: 3 }, byTenant: { tn_a: 3 } });
    expect(r.topKeys).toEqual([{ key: 'key_1', keyId: 'key_1', count: 3 }]);
  });

  it('is empty for no events', () => {
    expect(buildSecurityReport([], new Date(0), new Date(1))).toMatchObject({ total: 0, byType: {}, byTenant: {}, topKeys: [] });
  });
});
