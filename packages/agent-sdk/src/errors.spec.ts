import { GENERIC_ERROR_CODE, PermanentError, RetryableError, sanitizeErrorCode, sdkFailure, toFailure } from './errors';
import { ERROR_CODE_PATTERN } from './protocol';

describe('sanitizeErrorCode', () => {
  it('keeps a code the protocol accepts', () => {
    expect(sanitizeErrorCode('UPSTREAM.BUSY')).toBe('UPSTREAM.BUSY');
    expect(sanitizeErrorCode('A_1.B')).toBe('A_1.B');
  });

  it('upper-cases, replaces other characters with _ and cuts to 64', () => {
    expect(sanitizeErrorCode('upstream-busy')).toBe('UPSTREAM_BUSY');
    expect(sanitizeErrorCode('bad input!')).toBe('BAD_INPUT_');
    expect(sanitizeErrorCode('  quota exceeded  ')).toBe('QUOTA_EXCEEDED');
    const long = sanitizeErrorCode('x'.repeat(100));
    expect(long).toBe('X'.repeat(64));
    for (const c of ['upstream-busy', 'ünïcödé', 'a b c', 'x'.repeat(100), 'x.y/z']) expect(sanitizeErrorCode(c)).toMatch(ERROR_CODE_PATTERN);
  });

  it('falls back to AGENT.ERROR when nothing usable is left', () => {
    expect(sanitizeErrorCode('')).toBe(GENERIC_ERROR_CODE);
    expect(sanitizeErrorCode(undefined)).toBe(GENERIC_ERROR_CODE);
    expect(sanitizeErrorCode(42)).toBe(GENERIC_ERROR_CODE);
  });
});

describe('toFailure', () => {
  it('maps RetryableError to a retryable failure with its class and retry-after', () => {
    expect(toFailure(new RetryableError('UPSTREAM.BUSY', 'try later', { class: 'rate_limited', retryAfterMs: 250 }))).toEqual({
      code: 'UPSTREAM.BUSY',
      message: 'try later',
      class: 'rate_limited',
      retryable: true,
      retryAfterMs: 250,
    });
    expect(toFailure(new RetryableError('flaky dep', 'x'))).toEqual({ code: 'FLAKY_DEP', message: 'x', class: 'agent_error', retryable: true });
  });

  it('bounds retryAfterMs and ignores a class the protocol does not know', () => {
    const f = toFailure(new RetryableError('X', 'm', { class: 'cancelled' as never, retryAfterMs: 1e12 }));
    expect(f).toMatchObject({ class: 'agent_error', retryAfterMs: 24 * 3600_000 });
    expect(toFailure(new RetryableError('X', 'm', { retryAfterMs: -5.4 })).retryAfterMs).toBe(0);
    expect(toFailure(new RetryableError('X', 'm', { retryAfterMs: Number.NaN }))).not.toHaveProperty('retryAfterMs');
  });

  it('maps PermanentError to a non-retryable failure', () => {
    expect(toFailure(new PermanentError('INPUT.INVALID', 'no text'))).toEqual({ code: 'INPUT.INVALID', message: 'no text', class: 'agent_error', retryable: false });
    expect(toFailure(new PermanentError('input invalid', 'no text')).code).toBe('INPUT_INVALID');
  });

  it('maps anything else to a retryable AGENT.ERROR', () => {
    expect(toFailure(new TypeError('boom'))).toEqual({ code: 'AGENT.ERROR', message: 'boom', class: 'agent_error', retryable: true });
    expect(toFailure('a string')).toMatchObject({ code: 'AGENT.ERROR', message: 'a string', retryable: true });
    expect(toFailure({ why: 'object' })).toMatchObject({ code: 'AGENT.ERROR', message: '{"why":"object"}' });
    expect(toFailure(undefined)).toMatchObject({ code: 'AGENT.ERROR', retryable: true });
    // An error that looks like ours but is not one of ours is still generic (no duck typing).
    expect(toFailure(Object.assign(new Error('m'), { code: 'X', retryable: false }))).toMatchObject({ code: 'AGENT.ERROR', retryable: true });
  });

  it('cuts long messages to what the protocol accepts', () => {
    const f = toFailure(new Error('m'.repeat(10_000)));
    expect(f.message.length).toBe(4096);
    expect(sdkFailure('x y', 'z'.repeat(5000), false)).toMatchObject({ code: 'X_Y', retryable: false });
  });
});
