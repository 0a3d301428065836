import { backoffMs, budgetExhausted } from './backoff';

describe('backoff', () => {
  const policy = { maxAttempts: 3, baseMs: 1000, maxMs: 5000 };

  it('grows the delay exponentially and caps it', () => {
    const mid = () => 0.5; // no jitter
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(policy, a, mid))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it('jitters within ±20%', () => {
    expect(backoffMs(policy, 1, () => 0)).toBe(800);
    expect(backoffMs(policy, 1, () => 1)).toBe(1200);
  });

  it('never retries instantly when a base delay is set', () => {
    for (let a = 1; a < 10; a++) expect(backoffMs(policy, a)).toBeGreaterThanOrEqual(800);
  });

  it('exhausts the budget at maxAttempts', () => {
    expect(budgetExhausted(policy, 2)).toBe(false);
    expect(budgetExhausted(policy, 3)).toBe(true);
  });
});
