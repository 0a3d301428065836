import { LocalLimiter } from './local-limiter';

describe('LocalLimiter (in-process GCRA fallback)', () => {
  it('divides burst and rate by the replica count', () => {
    let now = 1_000_000;
    const l = new LocalLimiter(2, () => now);
    const bucket = [{ key: 't', limit: { rate: 10, burst: 10 } }];
    const results = Array.from({ length: 8 }, () => l.check(bucket));
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
    const refused = results.find((r) => !r.allowed)!;
    expect(refused).toMatchObject({ remaining: 0, limit: 5 });
    expect(refused.retryAfterMs).toBe(200); // 5 per second on this replica
    now += 200;
    expect(l.check(bucket).allowed).toBe(true);
    expect(l.check(bucket).allowed).toBe(false);
  });

  it('needs every bucket to allow and charges none when one refuses', () => {
    const now = 0;
    const l = new LocalLimiter(1, () => now);
    const key = { key: 'k', limit: { rate: 1, burst: 1 } };
    const tenant = { key: 'tn', limit: { rate: 1, burst: 3 } };
    expect(l.check([key, tenant])).toMatchObject({ allowed: true, remaining: 0, limit: 1 });
    expect(l.check([key, tenant]).allowed).toBe(false);
    // The tenant bucket was charged once only: two more pass on another key.
    expect(l.check([{ key: 'k2', limit: { rate: 1, burst: 5 } }, tenant])).toMatchObject({ allowed: true, remaining: 1 });
    expect(l.check([{ key: 'k2', limit: { rate: 1, burst: 5 } }, tenant])).toMatchObject({ allowed: true, remaining: 0 });
    expect(l.check([{ key: 'k2', limit: { rate: 1, burst: 5 } }, tenant]).allowed).toBe(false);
  });
});
