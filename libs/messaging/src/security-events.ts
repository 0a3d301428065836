/**
 * Security events: fire-and-forget core publishes that the `<PREFIX>_SECURITY_EVENTS` stream
 * captures. Never awaited on a request's path; a lost event costs a report line, not a request.
 * Callers pass identifiers only (key id, or prefix/last4) — never a secret.
 */
import type { StreamConfig } from '@nats-io/jetstream';
import { RetentionPolicy, StorageType } from '@nats-io/jetstream';
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

const NANOS_PER_MS = 1_000_000;
export const SECURITY_EVENTS_MAX_AGE_MS = 7 * 24 * 3600_000;

export function securityEventsStreamConfig(prefix: string, replicas = 1): Partial<StreamConfig> & { name: string } {
  const n = securityEventNames(prefix);
  return {
    name: n.stream,
    subjects: [n.all],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    max_age: SECURITY_EVENTS_MAX_AGE_MS * NANOS_PER_MS,
  };
}
