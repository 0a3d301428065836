import { decide, parseRetryAfter } from './retry-policy';

const s = { baseMs: 1000, maxMs: 60_000 };

describe('backoff (the shared backoffMs: base·2^(attempt-1), capped, ±20% jitter)', () => {
  const r503 = { kind: 'response' as const, status: 503 };
  const delay = (attempt: number, random: number) => decide(r503, attempt, attempt + 1, s, () => random).retryInMs!;

  it('doubles per attempt within ±20%, and below the cap a delay is never shorter than the previous one could be', () => {
    expect([1, 2, 3, 4].map((a) => delay(a, 0))).toEqual([800, 1600, 3200, 6400]);
    expect([1, 2, 3, 4].map((a) => delay(a, 0.5))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((a) => delay(a, 1))).toEqual([1200, 2400, 4800, 9600]);
    for (let a = 1; a < 6; a++) expect(delay(a + 1, 0)).toBeGreaterThanOrEqual(delay(a, 1));
  });

  it('is capped before the jitter', () => {
    expect(delay(30, 0.5)).toBe(60_000);
    expect(delay(30, 1)).toBe(72_000);
    expect(delay(1000, 0)).toBe(48_000);
  });
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates, caps at an hour, ignores junk', () => {
    expect(parseRetryAfter('7', 0)).toBe(7000);
    expect(parseRetryAfter('Sat, 21 Nov 2026 10:00:30 GMT', Date.parse('2026-11-21T10:00:00Z'))).toBe(30_000);
    expect(parseRetryAfter('999999', 0)).toBe(3600_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });
});

describe('decide', () => {
  const r = (status: number, retryAfterMs?: number) => ({ kind: 'response' as const, status, retryAfterMs });
  it('delivers on 2xx', () => expect(decide(r(202), 1, 3, s)).toEqual({ outcome: 'delivered', retryInMs: null }));
  it.each([400, 401, 403, 404, 410, 422, 301])('refuses permanently on %s', (status) => expect(decide(r(status), 1, 3, s)).toEqual({ outcome: 'failed', retryInMs: null }));
  it.each([408, 429, 500, 502, 503])('retries %s with backoff', (status) => expect(decide(r(status), 2, 3, s, () => 0)).toEqual({ outcome: 'retrying', retryInMs: 1600 }));
  it('retries network errors and timeouts', () => expect(decide({ kind: 'error', message: 'connection failed: ECONNREFUSED' }, 1, 3, s, () => 0)).toEqual({ outcome: 'retrying', retryInMs: 800 }));
  it('waits at least Retry-After on 429', () => expect(decide(r(429, 20_000), 1, 3, s, () => 0)).toEqual({ outcome: 'retrying', retryInMs: 20_000 }));
  it('gives up after the last attempt', () => expect(decide(r(500), 3, 3, s)).toEqual({ outcome: 'gave_up', retryInMs: null }));
});
