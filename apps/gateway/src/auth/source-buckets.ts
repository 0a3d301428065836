/**
 * A token bucket per source (client address or NATS connection), in process: `rate` tokens a
 * second up to `burst`. Pure: the clock is injected.
 *
 * Sources are bounded: at MAX_SOURCES, buckets that have filled up again (idle sources, which a
 * fresh bucket would equal) are dropped, at most once a second; a new source that still finds no
 * room shares one overflow bucket until a sweep makes room. A flood under ever new addresses
 * therefore costs a bounded map and ends up drawing on one bucket.
 */
export const MAX_SOURCES = 50_000;
const SWEEP_EVERY_MS = 1_000;
export const OVERFLOW_SOURCE = '*';

interface Bucket {
  tokens: number;
  at: number;
}

export class SourceBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private sweptAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
    private readonly maxSources = MAX_SOURCES,
  ) {}

  get size(): number {
    return this.buckets.size;
  }

  /** Take a token: 0 when there was one, else the milliseconds until there is. */
  take(source: string): number {
    const b = this.bucketOf(source);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / this.rate) * 1000);
  }

  /** Give back a token taken by `take` (the request authenticated). */
  giveBack(source: string): void {
    const b = this.buckets.get(source) ?? this.buckets.get(OVERFLOW_SOURCE);
    if (b) b.tokens = Math.min(this.burst, b.tokens + 1);
  }

  private bucketOf(source: string): Bucket {
    const now = this.now();
    let b = this.buckets.get(source);
    if (!b) {
      if (this.buckets.size >= this.maxSources) this.sweep(now);
      const key = this.buckets.size < this.maxSources ? source : OVERFLOW_SOURCE;
      b = this.buckets.get(key);
      if (!b) this.buckets.set(key, (b = { tokens: this.burst, at: now }));
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    return b;
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < SWEEP_EVERY_MS) return;
    this.sweptAt = now;
    for (const [k, b] of this.buckets) if (b.tokens + ((now - b.at) / 1000) * this.rate >= this.burst) this.buckets.delete(k);
  }
}
