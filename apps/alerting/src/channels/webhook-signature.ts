/**
 * Webhook signatures, so a receiver can tell Switchboard's POSTs from anyone else's and refuse
 * replays: `X-Switchboard-Timestamp: <unix seconds>` and
 * `X-Switchboard-Signature: v1=<hex HMAC-SHA256(signingSecret, "<timestamp>.<raw body>")>`.
 * A receiver recomputes the HMAC over the raw body, compares in constant time, and rejects
 * timestamps more than a few minutes old.
 */
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Switchboard-Signature';
export const TIMESTAMP_HEADER = 'X-Switchboard-Timestamp';

export function signBody(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function signatureHeaders(secret: string, body: string, now: Date): Record<string, string> {
  const ts = Math.floor(now.getTime() / 1000);
  return { [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: signBody(secret, ts, body) };
}
