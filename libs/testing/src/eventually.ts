// Poll a condition, for the few cases where no event exists to wait for
// (prefer waitForMessage / collectMessages when something is published).

export interface EventuallyOptions {
  /** Overall budget. Default 5 s. */
  timeoutMs?: number;
  /** Pause between attempts. Default 50 ms. */
  intervalMs?: number;
  /** Named in the timeout error. */
  description?: string;
}

/**
 * Call `fn` until it neither throws nor returns `false`, and resolve with its value.
 * Rejects after `timeoutMs` with the last failure as `cause`.
 */
export async function eventually<T>(fn: () => T | Promise<T>, opts: EventuallyOptions = {}): Promise<Exclude<T, false>> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let lastFailure: unknown;
  for (;;) {
    attempts += 1;
    try {
      const value = await withDeadline(Promise.resolve().then(fn), deadline);
      if (value !== false) return value as Exclude<T, false>;
      lastFailure = new Error('condition returned false');
    } catch (err) {
      lastFailure = err;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const why = lastFailure instanceof Error ? lastFailure.message : String(lastFailure);
      throw new Error(
        `eventually: ${opts.description ?? 'condition'} not met within ${timeoutMs} ms (${attempts} attempts); last: ${why}`,
        { cause: lastFailure },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
  }
}

function withDeadline<T>(p: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('attempt still running at the deadline')), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}
