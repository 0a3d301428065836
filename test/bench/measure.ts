/**
 * Closed-loop load: `concurrency` workers, each with exactly one operation in flight, for a
 * warm-up (not recorded) and then a fixed measuring window. Latency is taken per operation
 * with the monotonic clock; throughput is completed operations over the wall time until the
 * last in-flight operation of the window finished.
 */

export type Op = () => Promise<unknown>;

export interface LoadOptions {
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  /** Stop early after this many recorded operations (bounds very fast paths' memory). */
  maxOps?: number;
  /** Give up on a measurement whose error rate is hopeless (after at least 50 attempts). */
  maxErrorRatio?: number;
  /** Called between the warm-up and the measuring window (e.g. to reset side recorders). */
  onMeasureStart?: () => void | Promise<void>;
}

export interface LoadResult {
  concurrency: number;
  ops: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  throughput: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  /** Set when the measurement was abandoned (too many errors). */
  aborted?: boolean;
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Nearest-rank percentile of an ascending array (q in 0..1). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.min(n, Math.max(1, Math.ceil(q * n)));
  return sorted[rank - 1];
}

export function summarize(latencies: Float64Array, concurrency: number, elapsedMs: number, errors: number, firstError?: string): LoadResult {
  const sorted = Float64Array.from(latencies).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const ops = sorted.length;
  return {
    concurrency,
    ops,
    errors,
    firstError,
    elapsedMs,
    throughput: elapsedMs > 0 ? (ops / elapsedMs) * 1000 : 0,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: ops ? sorted[ops - 1] : Number.NaN,
    mean: ops ? sum / ops : Number.NaN,
  };
}

interface Phase {
  latencies: number[];
  errors: number;
  firstError?: string;
  elapsedMs: number;
  aborted: boolean;
}

async function phase(op: Op, concurrency: number, durationMs: number, maxOps: number, maxErrorRatio: number): Promise<Phase> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let aborted = false;
  const start = nowMs();
  const end = start + durationMs;
  const stop = (): boolean => aborted || latencies.length >= maxOps || nowMs() >= end;

  const worker = async (): Promise<void> => {
    while (!stop()) {
      const t0 = nowMs();
      try {
        await op();
        latencies.push(nowMs() - t0);
      } catch (e) {
        errors++;
        firstError ??= e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        const attempts = errors + latencies.length;
        if (attempts >= 50 && errors / attempts > maxErrorRatio) aborted = true;
        // An instant failure must not turn into a hot loop.
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, errors, firstError, elapsedMs: nowMs() - start, aborted };
}

/** Warm up, then measure. */
export async function closedLoop(op: Op, opts: LoadOptions): Promise<LoadResult> {
  const maxOps = opts.maxOps ?? Number.POSITIVE_INFINITY;
  const maxErrorRatio = opts.maxErrorRatio ?? 0.5;
  if (opts.warmupMs > 0) await phase(op, opts.concurrency, opts.warmupMs, maxOps, maxErrorRatio);
  await opts.onMeasureStart?.();
  const p = await phase(op, opts.concurrency, opts.durationMs, maxOps, maxErrorRatio);
  const r = summarize(Float64Array.from(p.latencies), opts.concurrency, p.elapsedMs, p.errors, p.firstError);
  if (p.aborted) r.aborted = true;
  return r;
}

/** Reject if `p` does not settle in `ms`, so no single operation can hang a measurement. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Bench knobs from the environment (the bench is a script, not a service: it reads env here). */
export interface BenchSettings {
  durationMs: number;
  warmupMs: number;
  highConcurrency: number;
  /** Rounds of the internal-call comparison (each path's median round; ratios paired within a round). */
  rounds: number;
  /** Open-loop rate of the auth + limits rows, requests/s. */
  authRate: number;
}

export function benchSettings(env: NodeJS.ProcessEnv): BenchSettings {
  const num = (name: string, def: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min || v > max) throw new Error(`${name}: expected a number in ${min}..${max}, got "${raw}"`);
    return Math.floor(v);
  };
  return {
    durationMs: num('BENCH_DURATION_MS', 3_000, 100, 60_000),
    warmupMs: num('BENCH_WARMUP_MS', 1_000, 0, 30_000),
    highConcurrency: num('BENCH_CONCURRENCY', 64, 2, 1_024),
    rounds: num('BENCH_ROUNDS', 5, 1, 9),
    authRate: num('BENCH_AUTH_RATE', 5_000, 100, 100_000),
  };
}
