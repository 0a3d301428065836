/**
 * Security events: fire-and-forget core publishes that the `<PREFIX>_SECURITY_EVENTS` stream
 * (`Streams.securityEvents` in libs/contracts topology.ts) captures. Never awaited on a request's path; a lost event costs a report line, not a request.
 * Callers pass identifiers only (key id, or prefix/last4) — never a secret.
 */
import { type SecurityEvent, securityEventNames } from '@sb/contracts';
import type { Bus } from './bus';

export type SecurityEventInput = Omit<SecurityEvent, 'at'> & { at?: string };

export function publishSecurityEvent(bus: Pick<Bus, 'publish' | 'names'>, event: SecurityEventInput): void {
  try {
    const full: SecurityEvent = { ...event, at: event.at ?? new Date().toISOString() };
    bus.publish(securityEventNames(bus.names.prefix).subject(full.type), full);
  } catch {
    /* a closed connection must not fail the request that was being refused */
  }
}
