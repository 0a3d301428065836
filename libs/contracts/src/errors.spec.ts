import { ConflictError, errorFromWire, fromUnexpected, InternalError, UnavailableError } from './errors';

describe('errors', () => {
  it('keep code, status, retryability and Retry-After through the wire', () => {
    const e = new UnavailableError('later', { retryAfter: 3 });
    const back = errorFromWire(e.status, e.toWire().error);
    expect(back).toMatchObject({ code: 'SERVICE.UNAVAILABLE', status: 503, retryable: true, retryAfter: 3, message: 'later' });
  });

  it('turn dependency failures into a retryable 503 and anything else into INTERNAL', () => {
    const timeout = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
    expect(fromUnexpected(timeout).err).toBeInstanceOf(UnavailableError);
    expect(fromUnexpected(new Error('Connection is closed.')).err.status).toBe(503);
    const bug = fromUnexpected(new TypeError('x is undefined'));
    expect(bug.err).toBeInstanceOf(InternalError);
    expect(bug.err.message).toBe('Internal error');
    expect(fromUnexpected(new ConflictError())).toEqual({ err: expect.any(ConflictError), unexpected: false });
  });
});
