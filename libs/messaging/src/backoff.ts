/** Growing delay between attempts: base·2^(n-1), capped, with ±20% jitter so retries don't arrive in lockstep. */
export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

export function backoffMs(policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'>, attempt: number, random: () => number = Math.random): number {
  const exp = policy.baseMs * 2 ** Math.max(0, attempt - 1);
  const capped = Math.min(policy.maxMs, exp);
  const jitter = 1 + (random() * 0.4 - 0.2);
  return Math.max(0, Math.round(capped * jitter));
}

export function budgetExhausted(policy: Pick<RetryPolicy, 'maxAttempts'>, attempt: number): boolean {
  return attempt >= policy.maxAttempts;
}
