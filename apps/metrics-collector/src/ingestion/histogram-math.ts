/** Histogram arithmetic on cumulative buckets (Prometheus semantics). */

export interface Bucket {
  le: number;
  count: number;
}

/**
 * The q-quantile from cumulative buckets and the total count, interpolating linearly inside
 * the bucket that holds the rank (as PromQL's histogram_quantile does). Observations above the
 * highest finite bound report that bound. Null when there are no observations.
 */
export function quantile(q: number, buckets: Bucket[], count: number): number | null {
  if (!(count > 0)) return null;
  const rank = q * count;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      const inBucket = b.count - lowerCount;
      if (inBucket <= 0) return b.le;
      return lowerLe + (b.le - lowerLe) * ((rank - lowerCount) / inBucket);
    }
    lowerLe = b.le;
    lowerCount = b.count;
  }
  return buckets.length > 0 ? buckets[buckets.length - 1].le : null;
}

/**
 * `next - prev` per bound, for cumulative histograms from the same process. A count that went
 * down means the process restarted: the whole of `next` is new.
 */
export function bucketDelta(prev: { buckets: Bucket[]; count: number } | undefined, next: { buckets: Bucket[]; count: number }): { buckets: Bucket[]; count: number } {
  if (!prev || next.count < prev.count) return { buckets: next.buckets.map((b) => ({ ...b })), count: next.count };
  const before = new Map(prev.buckets.map((b) => [b.le, b.count]));
  return { buckets: next.buckets.map((b) => ({ le: b.le, count: Math.max(0, b.count - (before.get(b.le) ?? 0)) })), count: next.count - prev.count };
}

/** Add `add` into the per-bound accumulator `into` (non-cumulative merge of cumulative deltas). */
export function addBuckets(into: Map<number, number>, add: Bucket[]): void {
  for (const b of add) into.set(b.le, (into.get(b.le) ?? 0) + b.count);
}

/** An accumulator back to sorted cumulative buckets. */
export function toBuckets(acc: Map<number, number>): Bucket[] {
  return [...acc.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
}
