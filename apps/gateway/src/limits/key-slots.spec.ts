import { RateLimitedError, UnavailableError } from '@sb/contracts';
import { KeySlots } from './key-slots';

describe('KeySlots', () => {
  const slots = () => new KeySlots({ what: 'open event streams', perKey: 2, total: 3, retryAfterSeconds: 5 });

  it("refuses a key's slot over its cap with a retryable 429, and others still get theirs", () => {
    const s = slots();
    s.acquire('k1');
    s.acquire('k1');
    const refused = (() => {
      try {
        s.acquire('k1');
      } catch (e) {
        return e;
      }
    })();
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(refused).toMatchObject({ status: 429, retryable: true, retryAfter: 5, details: { limit: 2 } });
    expect(() => s.acquire('k2')).not.toThrow();
  });

  it("refuses anyone once the gateway's total is held (503), and frees a slot once however often it is given back", () => {
    const s = slots();
    const release = s.acquire('k1');
    s.acquire('k2');
    s.acquire('k3');
    expect(() => s.acquire('k4')).toThrow(UnavailableError);
    release();
    release();
    expect(s.inUse).toBe(2);
    expect(s.heldBy('k1')).toBe(0);
    s.acquire('k4');
    expect(() => s.acquire('k5')).toThrow(UnavailableError);
  });
});
