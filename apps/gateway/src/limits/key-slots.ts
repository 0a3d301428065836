/**
 * Long-lived requests held open on this gateway (task-event streams, waits for a task), counted
 * per API key and in all: one key may not take the slots every other caller needs. Over the key's
 * cap the caller gets 429 RATE_LIMIT.EXCEEDED (its own doing: close one and retry); over the
 * gateway's, 503 SERVICE.UNAVAILABLE. Both carry Retry-After. Counts are per gateway replica, in
 * memory: a slot is given back when its request ends, whichever way it ends.
 */
import { RateLimitedError, UnavailableError } from '@sb/contracts';

export interface KeySlotLimits {
  /** What is held, for messages: "open event streams". */
  what: string;
  perKey: number;
  /** Across all keys on this gateway. */
  total: number;
  retryAfterSeconds: number;
}

export class KeySlots {
  private readonly held = new Map<string, number>();
  private count = 0;

  constructor(private readonly limits: KeySlotLimits) {}

  /** Take a slot for `keyId`, or throw; the returned function gives it back (calling it again does nothing). */
  acquire(keyId: string): () => void {
    const { what, perKey, total, retryAfterSeconds: retryAfter } = this.limits;
    if (this.count >= total) throw new UnavailableError(`Too many ${what} on this gateway; retry shortly`, { retryAfter });
    const mine = this.held.get(keyId) ?? 0;
    if (mine >= perKey) {
      throw new RateLimitedError(`This API key already has ${mine} ${what} on this gateway (the limit is ${perKey}); end one or retry later`, { retryAfter, details: { limit: perKey } });
    }
    this.held.set(keyId, mine + 1);
    this.count++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.count--;
      const left = (this.held.get(keyId) ?? 1) - 1;
      if (left > 0) this.held.set(keyId, left);
      else this.held.delete(keyId);
    };
  }

  /** Slots held now, all keys. */
  get inUse(): number {
    return this.count;
  }

  heldBy(keyId: string): number {
    return this.held.get(keyId) ?? 0;
  }
}
