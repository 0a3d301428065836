/**
 * Open-loop load: operations are started on a fixed schedule (request i at start + i / rate),
 * whether or not earlier ones have finished, and each latency is taken from its SCHEDULED start,
 * so time spent waiting behind a slow operation or a busy event loop shows as latency (no
 * coordinated omission). The scheduler spins on setImmediate, which lets I/O callbacks run
 * between checks; how late the generator itself started requests is reported as `lateP99`.
 */
import { type LoadResult, type Op, percentile, summarize } from './measure';

export interface OpenLoopOptions {
  ratePerSec: number;
  durationMs: number;
  warmupMs: number;
  /** Requests beyond this many in flight are not started and count as errors. Default 1 s worth. */
  maxInFlight?: number;
}

export interface OpenLoopResult extends LoadResult {
  /** The rate asked for (ops/s); `throughput` is the rate achieved. */
  targetRate: number;
  /** p99 of (actual start − scheduled start), ms: the load generator's own lag. */
  lateP99: number;
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

interface Phase {
  latencies: Float64Array;
  late: Float64Array;
  done: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
}

function phase(op: Op, rate: number, durationMs: number, maxInFlight: number): Promise<Phase> {
  const interval = 1000 / rate;
  const n = Math.max(1, Math.floor(durationMs / interval));
  const p: Phase = { latencies: new Float64Array(n), late: new Float64Array(n), done: 0, errors: 0, elapsedMs: 0 };
  const start = nowMs();
  let next = 0;
  let inFlight = 0;
  let lastEnd = start;
  return new Promise((resolve) => {
    const finish = (): void => {
      if (next < n || inFlight > 0) return;
      p.elapsedMs = lastEnd - start;
      resolve(p);
    };
    const fail = (e: unknown): void => {
      p.errors++;
      p.firstError ??= e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    };
    const tick = (): void => {
      const now = nowMs();
      while (next < n && start + next * interval <= now) {
        const scheduled = start + next * interval;
        p.late[next++] = now - scheduled;
        if (inFlight >= maxInFlight) {
          fail(new Error(`more than ${maxInFlight} requests in flight; request not started`));
          continue;
        }
        inFlight++;
        let ran: Promise<unknown>;
        try {
          ran = op();
        } catch (e) {
          ran = Promise.reject(e);
        }
        ran.then(
          () => {
            lastEnd = nowMs();
            p.latencies[p.done++] = lastEnd - scheduled;
          },
          (e: unknown) => {
            lastEnd = nowMs();
            fail(e);
          },
        ).finally(() => {
          inFlight--;
          finish();
        });
      }
      if (next < n) setImmediate(tick);
      else finish();
    };
    tick();
  });
}

/** Warm up at the same rate (not recorded), then measure. */
export async function openLoop(op: Op, o: OpenLoopOptions): Promise<OpenLoopResult> {
  const maxInFlight = o.maxInFlight ?? Math.max(1, Math.round(o.ratePerSec));
  if (o.warmupMs > 0) await phase(op, o.ratePerSec, o.warmupMs, maxInFlight);
  const p = await phase(op, o.ratePerSec, o.durationMs, maxInFlight);
  const r = summarize(p.latencies.subarray(0, p.done), 0, p.elapsedMs, p.errors, p.firstError);
  return { ...r, targetRate: o.ratePerSec, lateP99: percentile(Float64Array.from(p.late).sort(), 0.99) };
}
