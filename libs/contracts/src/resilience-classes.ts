/**
 * Why a task attempt failed, as the circuit breakers see it. Kept free of imports so the base
 * task schemas can carry it on every TaskError.
 *  - agent_error:  the agent's own fault (it threw something unexpected or non-retryable)
 *  - rate_limited: a provider's 429 / rate limit: back off, never the agent's fault
 *  - timeout:      the task ran past its deadline
 *  - dependency:   a transient failure of something the agent depends on (connection refused, 5xx)
 *  - cancelled:    cancelled by a caller or handed back on shutdown
 *  - worker_lost:  the worker running it stopped responding (killed, partitioned)
 */
export const ERROR_CLASSES = ['agent_error', 'rate_limited', 'timeout', 'dependency', 'cancelled', 'worker_lost'] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];
