/** The ports the engine works through, so it runs the same on real NATS and in tests. */
import type { AlertEvent, EscalationPolicy, Silence } from '@sb/contracts';
import type { NotificationOutbox } from '../channels/notification-outbox';
import type { WatchedKv } from '../store/watched-kv';
import type { AlertRecord, GroupRecord, InhibitRule } from './alert-record';
import type { Clock } from '@sb/observability';

/** Publishes an alert state change (JetStream: stored in the alerts stream and delivered to subscribers). */
export interface AlertEventSink {
  publish(event: AlertEvent, msgId: string): Promise<void>;
}

export interface EngineSettings {
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  /** Channels for alerts raised by other services (no rule of their own). */
  defaultChannelIds: string[];
  /** A series with no sample for this long is dropped; its alert resolves. */
  staleAfterMs: number;
  /** How long resolved alerts stay listed after their resolution was notified. */
  resolvedRetentionMs: number;
  /** Raise HostDown{host} when all of a host's agents (at least this many) are down; 0 disables. */
  hostDownMinAgents: number;
  /** Series all rules hold together; a new one beyond this is dropped (counted by `onSeriesRefused`). */
  maxSeries: number;
}
export const DEFAULT_ENGINE_SETTINGS: EngineSettings = {
  groupWaitMs: 30_000,
  groupIntervalMs: 5 * 60_000,
  repeatIntervalMs: 4 * 3600_000,
  defaultChannelIds: [],
  staleAfterMs: 5 * 60_000,
  resolvedRetentionMs: 15 * 60_000,
  hostDownMinAgents: 2,
  maxSeries: 50_000,
};

export interface EngineLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface EngineDeps {
  clock: Clock;
  alerts: WatchedKv<AlertRecord>;
  groups: WatchedKv<GroupRecord>;
  events: AlertEventSink;
  outbox: NotificationOutbox;
  policies: () => ReadonlyMap<string, EscalationPolicy>;
  silences: () => Iterable<Silence>;
  inhibitRules: readonly InhibitRule[];
  settings: EngineSettings;
  logger?: EngineLogger;
  /** Counts state changes and notifications (metrics); optional. */
  onOutput?: (what: 'event' | 'notification', kind: string) => void;
  /** A transition (fire, resolve) that failed and was logged as "alert transition failed"; optional. */
  onTransitionFailed?: () => void;
  /** A sample dropped because it would start a series beyond `settings.maxSeries`; optional. */
  onSeriesRefused?: () => void;
}
