/** Errors ↔ NATS micro-style headers and the JSON error body. */
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core';
import { errorFromWire, fromUnexpected, Headers, type SbError, type WireError } from '@sb/contracts';
import { encode } from './codec';

export function errorHeaders(err: SbError): MsgHdrs {
  const h = natsHeaders();
  h.set(Headers.ErrorCode, String(err.status));
  h.set(Headers.Error, err.message.replace(/[\r\n]+/g, ' '));
  if (err.retryAfter !== undefined) h.set(Headers.RetryAfter, String(err.retryAfter));
  return h;
}

export function errorReply(err: SbError): { data: Uint8Array; headers: MsgHdrs } {
  return { data: encode(err.toWire()), headers: errorHeaders(err) };
}

/** If a reply carries the error headers, rebuild the error it describes. */
export function errorFromReply(h: MsgHdrs | undefined, body: unknown): SbError | undefined {
  const status = h?.get(Headers.ErrorCode);
  if (!status) return undefined;
  const wire = (body as { error?: WireError } | undefined)?.error;
  if (wire && typeof wire.code === 'string') return errorFromWire(Number(status), wire);
  return errorFromWire(Number(status), { code: Number(status) >= 500 ? 'INTERNAL' : 'REQUEST.INVALID', message: h?.get(Headers.Error) ?? 'error', retryable: Number(status) >= 500 });
}

/** Anything thrown by a handler becomes an SbError: dependency failures 503, the rest INTERNAL (the caller logs them). */
export const asSbError = fromUnexpected;
