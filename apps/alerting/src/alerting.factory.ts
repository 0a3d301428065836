/**
 * Assembles the engine on alerting's topology (ensured at boot): the rule/silence/policy/state
 * buckets (watched), the config handler and the engine. Used by the service module and by tests
 * that run several engines (replicas, restarts) on the same buckets.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { AlertRule, EscalationPolicy, Names, Silence } from '@sb/contracts';
import type { Topology } from '@sb/messaging';
import type { NotificationOutbox } from './channels/notification-outbox';
import { AlertingConfigHandler, type SilenceLimits } from './config-api/alerting-config.handler';
import type { AlertRecord, GroupRecord, InhibitRule } from './engine/alert-record';
import { AlertingEngine } from './engine/alerting-engine';
import type { Clock } from '@sb/observability';
import type { AlertEventSink, EngineLogger, EngineSettings } from './engine/engine-deps';
import { JetStreamEventSink } from './engine/jetstream-event-sink';
import { WatchedKv } from './store/watched-kv';

/** The assembled engine and config handler, as the service module provides them. */
export const ALERTING_PARTS = Symbol('ALERTING_PARTS');

export interface AlertingParts {
  engine: AlertingEngine;
  config: AlertingConfigHandler;
  stop(): void;
}

export interface AlertingFactoryOptions {
  js: JetStreamClient;
  /** Alerting's streams and buckets (ensureTopology(client, 'alerting')). */
  topology: Pick<Topology, 'bucket'>;
  names: Names;
  clock: Clock;
  outbox: NotificationOutbox;
  settings: EngineSettings;
  inhibitRules: readonly InhibitRule[];
  events?: AlertEventSink;
  logger?: EngineLogger;
  onOutput?: (what: 'event' | 'notification', kind: string) => void;
  onSeriesRefused?: () => void;
  onTransitionFailed?: () => void;
  silenceLimits?: SilenceLimits;
}

export async function createAlerting(o: AlertingFactoryOptions): Promise<AlertingParts> {
  const n = o.names;
  const kv = (key: Parameters<Topology['bucket']>[0]) => o.topology.bucket(key);
  const rules = new WatchedKv<AlertRule>(kv('alertRules'));
  const silences = new WatchedKv<Silence>(kv('alertSilences'));
  const policies = new WatchedKv<EscalationPolicy>(kv('alertPolicies'));
  const alerts = new WatchedKv<AlertRecord>(kv('alertState'));
  const groups = new WatchedKv<GroupRecord>(kv('alertGroups'));
  const config = new AlertingConfigHandler({ rules, silences, policies }, o.clock, o.silenceLimits);
  const engine = new AlertingEngine({
    clock: o.clock,
    alerts,
    groups,
    events: o.events ?? new JetStreamEventSink(o.js, n),
    outbox: o.outbox,
    policies: () => new Map(config.policies.list().map((p) => [p.id, p])),
    silences: () => config.silences.list(),
    inhibitRules: o.inhibitRules,
    settings: o.settings,
    logger: o.logger,
    onOutput: o.onOutput,
    onSeriesRefused: o.onSeriesRefused,
    onTransitionFailed: o.onTransitionFailed,
  });
  // Alerts and groups first: the rules' first evaluation must see what is already firing.
  await Promise.all([alerts.start(), groups.start(), silences.start(), policies.start()]);
  await rules.start();
  engine.setRules(config.rules.list());
  rules.onChange(() => engine.setRules(config.rules.list()));
  return {
    engine,
    config,
    stop: () => {
      for (const w of [rules, silences, policies, alerts, groups]) w.stop();
    },
  };
}
