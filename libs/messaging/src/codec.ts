/** JSON on the wire. Decoding never throws anything but a structured error. */
import { MalformedError, PayloadTooLargeError, ValidationError } from '@sb/contracts';
import type { z } from 'zod';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });
const EMPTY = new Uint8Array(0);

export function encode(value: unknown): Uint8Array {
  return value === undefined ? EMPTY : encoder.encode(JSON.stringify(value));
}

export function decode(data: Uint8Array, maxBytes = Number.POSITIVE_INFINITY): unknown {
  if (data.length > maxBytes) throw new PayloadTooLargeError(`The message is ${data.length} bytes; the limit is ${maxBytes}`);
  if (data.length === 0) return undefined;
  try {
    return JSON.parse(decoder.decode(data));
  } catch (e) {
    throw new MalformedError('The message body is not valid JSON', { cause: e });
  }
}

/** Validate with a contract schema; a failure names every bad field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value === undefined ? {} : value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  throw new ValidationError(`Invalid request: ${summary}`, { details: { issues } });
}

/**
 * JSON that may be absent, too large or broken (an event, a stored entry written by another
 * version): the value, or undefined. The one lenient JSON parse; requests use `decode`.
 */
export function tryDecode(data: Uint8Array | string, maxBytes = Number.POSITIVE_INFINITY): unknown {
  if (data.length === 0 || data.length > maxBytes) return undefined;
  try {
    return JSON.parse(typeof data === 'string' ? data : decoder.decode(data));
  } catch {
    return undefined;
  }
}
