import { retryDelayMs } from '../run-deps';
import { classifyFailure, retryAfterHintMs } from './breaker-gate-classify';

/** An error with a code, as agents throw them. */
class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const rateLimitDelayMs = (e: unknown, backoff: number, maxMs: number) => retryDelayMs(backoff, retryAfterHintMs(e), maxMs);

describe('classifyFailure', () => {
  it("an agent's own failures are agent_error", () => {
    expect(classifyFailure(new CodedError('AGENT.BAD_INPUT', 'x'))).toBe('agent_error');
    expect(classifyFailure(new CodedError('AGENT.FLAKY', 'x'))).toBe('agent_error');
    expect(classifyFailure(new TypeError('cannot read properties of undefined'))).toBe('agent_error');
    expect(classifyFailure('a string')).toBe('agent_error');
    expect(classifyFailure(undefined)).toBe('agent_error');
  });

  it("a provider's 429 is rate_limited, by status or by code", () => {
    expect(classifyFailure(Object.assign(new Error('slow down'), { status: 429 }))).toBe('rate_limited');
    expect(classifyFailure({ statusCode: '429', message: 'x' })).toBe('rate_limited');
    expect(classifyFailure({ response: { status: 429 } })).toBe('rate_limited');
    expect(classifyFailure(new CodedError('PROVIDER.RATE_LIMITED', 'x'))).toBe('rate_limited');
    expect(classifyFailure(new CodedError('HTTP_429', 'x'))).toBe('rate_limited');
    expect(classifyFailure(new CodedError('too_many_requests', 'x'))).toBe('rate_limited');
    expect(classifyFailure(new CodedError('AGENT.E4290', 'x'))).toBe('agent_error');
  });

  it('timeouts: the deadline, or a timeout the agent reports', () => {
    expect(classifyFailure(new Error('aborted'), 'timed_out')).toBe('timeout');
    expect(classifyFailure(Object.assign(new Error('x'), { code: 'ETIMEDOUT' }))).toBe('timeout');
    expect(classifyFailure(new CodedError('PROVIDER.TIMEOUT', 'x'))).toBe('timeout');
  });

  it('dependency outages: 502-504, network errors, DEPENDENCY/UNAVAILABLE codes', () => {
    expect(classifyFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('dependency');
    expect(classifyFailure({ status: 503 })).toBe('dependency');
    expect(classifyFailure(new CodedError('SEARCH.DEPENDENCY_DOWN', 'x'))).toBe('dependency');
    expect(classifyFailure({ status: 500 })).toBe('agent_error');
  });

  it('cancellation, shutdown hand-back and reclaim are cancelled', () => {
    for (const r of ['cancelled', 'shutdown', 'lost_lease']) expect(classifyFailure(new Error('x'), r)).toBe('cancelled');
  });
});

describe('rate-limited retry delay (retryAfterHintMs + retryDelayMs)', () => {
  it("waits the provider's hint, never less than the backoff, capped", () => {
    expect(rateLimitDelayMs({ retryAfterMs: 5_000 }, 1_000, 60_000)).toBe(5_000);
    expect(rateLimitDelayMs({ retryAfter: 3 }, 1_000, 60_000)).toBe(3_000);
    expect(rateLimitDelayMs({ response: { headers: { 'retry-after': '2' } } }, 500, 60_000)).toBe(2_000);
    expect(rateLimitDelayMs({ retryAfterMs: 10 }, 1_000, 60_000)).toBe(1_000);
    expect(rateLimitDelayMs({ retryAfter: 3600 }, 1_000, 30_000)).toBe(30_000);
    expect(rateLimitDelayMs(new Error('x'), 700, 30_000)).toBe(700);
  });
});
