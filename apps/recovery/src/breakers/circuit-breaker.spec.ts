import { CircuitBreaker, type BreakerPolicy } from './circuit-breaker';

const policy: BreakerPolicy = { windowMs: 10_000, minVolume: 10, errorRate: 0.5, consecutiveFailures: 5, cooldownMs: 2_000, maxCooldownMs: 8_000, probes: 2 };
const ok = (n = 1) => ({ ok: n, failed: 0, sawSuccess: n > 0, trailing: 0 });
const fail = (n = 1) => ({ ok: 0, failed: n, sawSuccess: false, trailing: n });

describe('CircuitBreaker', () => {
  let t: number;
  beforeEach(() => (t = 1_000_000));

  it('opens after N consecutive counted failures, not before', () => {
    const b = new CircuitBreaker(policy, t);
    for (let i = 0; i < 4; i++) expect(b.record(fail(), (t += 10))).toBeUndefined();
    expect(b.record(fail(), (t += 10))).toEqual({ from: 'closed', to: 'open', reason: 'consecutive_failures' });
    expect(b.state).toBe('open');
    expect(b.retryAt).toBe(t + 2_000);
  });

  it('a success in between resets the streak', () => {
    const b = new CircuitBreaker({ ...policy, minVolume: 1000 }, t);
    for (let i = 0; i < 20; i++) {
      b.record(fail(), (t += 10));
      b.record(fail(), (t += 10));
      b.record(ok(), (t += 10));
    }
    expect(b.state).toBe('closed');
    // A batch ending in failures after its last success: only the trailing ones continue the streak.
    expect(b.record({ ok: 3, failed: 6, sawSuccess: true, trailing: 2 }, (t += 10))).toBeUndefined();
    expect(b.consecutive).toBe(2);
  });

  it('opens on the error rate over the window once the minimum volume is reached', () => {
    const b = new CircuitBreaker({ ...policy, consecutiveFailures: 1000 }, t);
    // 4 failures / 8 attempts: rate 0.5 but under the minimum volume.
    for (let i = 0; i < 4; i++) {
      b.record(ok(), (t += 10));
      b.record({ ok: 0, failed: 1, sawSuccess: false, trailing: 1 }, (t += 10));
    }
    expect(b.state).toBe('closed');
    b.record(ok(), (t += 10));
    expect(b.record(fail(), (t += 10))).toEqual({ from: 'closed', to: 'open', reason: 'error_rate' });
  });

  it('old failures slide out of the window', () => {
    const b = new CircuitBreaker({ ...policy, consecutiveFailures: 1000 }, t);
    b.record(fail(9), t);
    t += 11_000;
    expect(b.window(t)).toEqual({ failures: 0, attempts: 0 });
    expect(b.record(ok(1), t)).toBeUndefined();
    expect(b.state).toBe('closed');
  });

  it('open → half-open after the cool-down → closed after enough successful probes', () => {
    const b = new CircuitBreaker(policy, t);
    b.record(fail(5), t);
    expect(b.tick(t + 1_999)).toBeUndefined();
    expect(b.record(ok(5), t + 100)).toBeUndefined(); // stragglers while open are ignored
    expect(b.tick((t += 2_000))).toEqual({ from: 'open', to: 'half_open', reason: 'consecutive_failures' });
    expect(b.record(ok(1), (t += 10))).toBeUndefined();
    expect(b.record(ok(1), (t += 10))).toEqual({ from: 'half_open', to: 'closed', reason: 'consecutive_failures' });
    expect(b.consecutive).toBe(0);
    expect(b.window(t)).toEqual({ failures: 0, attempts: 0 });
  });

  it('a failed probe re-opens with a doubled cool-down, capped', () => {
    const b = new CircuitBreaker(policy, t);
    b.record(fail(5), t);
    const cooldowns: number[] = [];
    for (let i = 0; i < 4; i++) {
      t = b.retryAt!;
      b.tick(t);
      expect(b.state).toBe('half_open');
      expect(b.record(fail(1), t)).toEqual({ from: 'half_open', to: 'open', reason: 'probe_failed' });
      cooldowns.push(b.retryAt! - t);
    }
    expect(cooldowns).toEqual([4_000, 8_000, 8_000, 8_000]);
  });

  it('batches with nothing counted change nothing', () => {
    const b = new CircuitBreaker(policy, t);
    expect(b.record({ ok: 0, failed: 0, sawSuccess: false, trailing: 0 }, t)).toBeUndefined();
    expect(b.window(t)).toEqual({ failures: 0, attempts: 0 });
  });

  it('restores an open state with its retry time', () => {
    const b = new CircuitBreaker(policy, t);
    b.restore('open', t - 500, t + 1_500, 'error_rate');
    expect(b.state).toBe('open');
    expect(b.tick(t + 1_499)).toBeUndefined();
    expect(b.tick(t + 1_500)?.to).toBe('half_open');
  });
});
