import type { SecurityEvent } from '@sb/contracts';
import { FOLDED_REASON, SecurityEventAggregator } from './security-event-aggregator';

describe('SecurityEventAggregator', () => {
  let t = 0;
  let out: SecurityEvent[];
  let agg: SecurityEventAggregator;
  const at = () => new Date(t).toISOString();
  const total = () => out.reduce((n, e) => n + (e.count ?? 1), 0);
  beforeEach(() => {
    t = Date.parse('2026-01-01T00:00:00Z');
    out = [];
    agg = new SecurityEventAggregator((e) => out.push(e), 1_000, () => t, 4);
  });
  afterEach(() => agg.stop());

  it('publishes a lone refusal at once, as it is', () => {
    agg.record({ type: 'invalid_credentials', transport: 'http', route: 'GET /v1/tasks', source: 'ip:203.0.113.9', reason: 'missing' });
    expect(out).toEqual([{ type: 'invalid_credentials', transport: 'http', route: 'GET /v1/tasks', source: 'ip:203.0.113.9', reason: 'missing', at: at() }]);
    agg.flush();
    expect(out).toHaveLength(1);
    expect(agg.size).toBe(0);
  });

  it('turns a flood from one source into one event per window whose counts add up to the flood', () => {
    for (let second = 0; second < 3; second++) {
      for (let i = 0; i < 1_000; i++) {
        t += 1;
        agg.record({ type: 'invalid_credentials', transport: 'http', route: 'GET /v1/tasks', source: 'ip:203.0.113.9', keyPrefix: `sbk_${i}`, keyLast4: String(i % 10_000).padStart(4, '0') });
      }
      agg.flush();
    }
    expect(out).toHaveLength(4); // the first at once, then one per window
    expect(total()).toBe(3_000);
    expect(out[1]).toMatchObject({ count: 999, at: new Date(Date.parse('2026-01-01T00:00:00Z') + 2).toISOString(), lastAt: new Date(Date.parse('2026-01-01T00:00:00Z') + 1_000).toISOString() });
    // Random tokens: their display parts disagree, so the aggregate names none.
    expect(out[1]).not.toHaveProperty('keyPrefix');
    expect(out[1]).not.toHaveProperty('keyLast4');
    agg.flush();
    expect(agg.size).toBe(0); // quiet for a window: closed
  });

  it('keeps apart what differs in type, source, reason or key, and keeps display parts that agree', () => {
    const base = { type: 'revoked_key' as const, transport: 'nats' as const, route: 'sb.v1.tasks.submit', keyId: 'key_1', keyPrefix: 'sbk_AAAA', keyLast4: 'wxyz' };
    for (let i = 0; i < 3; i++) agg.record(base);
    agg.record({ ...base, source: 'nats:acc:A' });
    agg.record({ ...base, keyId: 'key_2' });
    agg.flush();
    expect(out.map((e) => [e.keyId, e.source, e.count])).toEqual([
      ['key_1', undefined, undefined],
      ['key_1', 'nats:acc:A', undefined],
      ['key_2', undefined, undefined],
      ['key_1', undefined, 2],
    ]);
    expect(out[3]).toMatchObject({ keyPrefix: 'sbk_AAAA', keyLast4: 'wxyz' });
  });

  it('folds events beyond the open aggregates into one per type and transport, still counting each', () => {
    for (let i = 0; i < 100; i++) agg.record({ type: 'invalid_credentials', transport: 'http', source: `ip:198.51.100.${i}` });
    agg.flush();
    expect(total()).toBe(100);
    expect(out.length).toBeLessThanOrEqual(6);
    expect(out.filter((e) => e.reason === FOLDED_REASON).reduce((n, e) => n + (e.count ?? 1), 0)).toBe(96);
  });
});
