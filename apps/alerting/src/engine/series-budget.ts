/**
 * The ceiling on series every rule evaluator holds together (ALERTING_MAX_SERIES). Label values
 * come from agents, so without it a sender could grow alerting's memory without bound by
 * inventing label values; with it, a new series beyond the ceiling is dropped and counted, while
 * series already held keep updating (alerts in flight still resolve).
 */
export class SeriesBudget {
  private held = 0;

  constructor(
    readonly max: number,
    /** A new series refused for the ceiling (counted as sb_alerting_samples_dropped_total{reason="series_limit"}). */
    private readonly onRefused: () => void = () => undefined,
  ) {}

  get size(): number {
    return this.held;
  }

  /** Room for one more series? Takes it if so. */
  take(): boolean {
    if (this.held >= this.max) {
      this.onRefused();
      return false;
    }
    this.held += 1;
    return true;
  }

  release(n = 1): void {
    this.held = Math.max(0, this.held - n);
  }
}

/** No ceiling (an evaluator on its own, in tests). */
export const unlimitedSeries = (): SeriesBudget => new SeriesBudget(Number.POSITIVE_INFINITY);
