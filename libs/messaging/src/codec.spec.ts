import { MalformedError, PayloadTooLargeError, SubmitTaskRequestSchema, ValidationError } from '@sb/contracts';
import { decode, encode, validate } from './codec';
import { parseAckSubject } from './pulled-message';
import { childTraceparent, traceIdOf } from './trace';

describe('codec', () => {
  it('round-trips JSON and rejects garbage with structured errors', () => {
    expect(decode(encode({ a: 1 }))).toEqual({ a: 1 });
    expect(decode(new Uint8Array())).toBeUndefined();
    expect(() => decode(new TextEncoder().encode('{'))).toThrow(MalformedError);
    expect(() => decode(new Uint8Array(10), 5)).toThrow(PayloadTooLargeError);
  });

  it('validates with the contract schema, naming each bad field and applying defaults', () => {
    expect(validate(SubmitTaskRequestSchema, { capability: 'echo' })).toEqual({ capability: 'echo', input: null, priority: 'normal', timeoutMs: 30000, wait: false, metadata: {} });
    try {
      validate(SubmitTaskRequestSchema, { capability: 'BAD CAP', priority: 'urgent' });
      fail('expected a validation error');
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as Error).message).toContain('capability');
      expect((e as Error).message).toContain('priority');
    }
  });

  it('strips unknown fields', () => {
    expect(validate(SubmitTaskRequestSchema, { capability: 'echo', tenantId: 'someone-else' })).not.toHaveProperty('tenantId');
  });
});

describe('trace context', () => {
  it('continues a valid trace with a new span, starts one otherwise', () => {
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const child = childTraceparent(parent);
    expect(traceIdOf(child)).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(child).not.toBe(parent);
    expect(childTraceparent('junk')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(childTraceparent('00-00000000000000000000000000000000-b7ad6b7169203331-01')).not.toContain('0000000000000000000000000000000');
  });
});

describe('JetStream ack subjects', () => {
  it('parses v1 and v2 forms', () => {
    expect(parseAckSubject('$JS.ACK.S.C.3.10.7.1700000000000000000.5')).toMatchObject({ stream: 'S', consumer: 'C', deliveryCount: 3, streamSequence: 10, pending: 5 });
    expect(parseAckSubject('$JS.ACK.dom.acc.S.C.2.11.8.1700000000000000000.0.tok')).toMatchObject({ stream: 'S', consumer: 'C', deliveryCount: 2 });
    expect(parseAckSubject('_INBOX.x')).toBeUndefined();
  });
});
