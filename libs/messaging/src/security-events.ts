/**
 * Security events: fire-and-forget core publishes that the `<PREFIX>_SECURITY_EVENTS` stream
 * (`Streams.securityEvents` in libs/contracts topology.ts: bounded in age, bytes and messages,
 * oldest dropped first) captures. Never awaited on a request's path; a lost event costs a report
 * line, not a request. Callers pass identifiers only (key id, or prefix/last4) — never a secret.
 *
 * Alike events are aggregated per second before they are published (SecurityEventAggregator,
 * one per bus): a flood of refusals is one stored event per second per source and reason, whose
 * `count` says how many it stands for. What is counted in the last second before a process stops
 * is lost with it.
 */
import { securityEventNames } from '@sb/contracts';
import type { Bus } from './bus';
import { SecurityEventAggregator, type SecurityEventInput } from './security-event-aggregator';

export {
  FOLDED_REASON,
  MAX_AGGREGATES,
  SECURITY_EVENT_WINDOW_MS,
  SecurityEventAggregator,
  type SecurityEventInput,
} from './security-event-aggregator';

type EventBus = Pick<Bus, 'publish' | 'names'>;

const aggregators = new WeakMap<EventBus, SecurityEventAggregator>();

export function publishSecurityEvent(bus: EventBus, event: SecurityEventInput): void {
  let agg = aggregators.get(bus);
  if (!agg) {
    agg = new SecurityEventAggregator((e) => {
      try {
        bus.publish(securityEventNames(bus.names.prefix).subject(e.type), e);
      } catch {
        /* a closed connection must not fail the request that was being refused */
      }
    });
    aggregators.set(bus, agg);
  }
  agg.record(event);
}
