/**
 * Assembles the engine on a NATS connection: the alerts stream, the rule/silence/policy/state
 * buckets (watched), the config handler and the engine. Used by the service module and by tests
 * that run several engines (replicas, restarts) on the same buckets.
 */
import { type JetStreamClient, type JetStreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { Kvm } from '@nats-io/kv';
import type { AlertRule, EscalationPolicy, Names, Silence } from '@sb/contracts';
import { ensureStream, openBucket } from '@sb/messaging';
import type { NotificationOutbox } from './channels/notification-outbox';
import { AlertingConfigHandler } from './config-api/alerting-config.handler';
import type { AlertRecord, GroupRecord, InhibitRule } from './engine/alert-record';
import { AlertingEngine } from './engine/alerting-engine';
import type { Clock } from '@sb/observability';
import type { AlertEventSink, EngineLogger, EngineSettings } from './engine/engine-deps';
import { JetStreamEventSink } from './engine/jetstream-event-sink';
import { WatchedKv } from './store/watched-kv';

const NANOS_PER_MS = 1_000_000;

/** The assembled engine and config handler, as the service module provides them. */
export const ALERTING_PARTS = Symbol('ALERTING_PARTS');

export interface AlertingParts {
  engine: AlertingEngine;
  config: AlertingConfigHandler;
  stop(): void;
}

export interface AlertingFactoryOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  kvm: Kvm;
  names: Names;
  clock: Clock;
  outbox: NotificationOutbox;
  settings: EngineSettings;
  inhibitRules: readonly InhibitRule[];
  replicas?: number;
  stream?: { maxAgeMs: number; maxBytes: number };
  events?: AlertEventSink;
  logger?: EngineLogger;
  onOutput?: (what: 'event' | 'notification', kind: string) => void;
}

export async function ensureAlertsStream(jsm: JetStreamManager, n: Names, replicas = 1, limits = { maxAgeMs: 30 * 24 * 3600_000, maxBytes: 1024 ** 3 }): Promise<void> {
  await ensureStream(jsm, {
    name: n.alerting.stream,
    subjects: [n.alerts.all],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    max_age: limits.maxAgeMs * NANOS_PER_MS,
    max_bytes: limits.maxBytes,
    duplicate_window: 2 * 60_000 * NANOS_PER_MS,
  });
}

export async function createAlerting(o: AlertingFactoryOptions): Promise<AlertingParts> {
  const n = o.names;
  await ensureAlertsStream(o.jsm, n, o.replicas, o.stream);
  const open = (name: string) => openBucket(o.kvm, name, { replicas: o.replicas ?? 1 });
  const [rulesKv, silencesKv, policiesKv, stateKv, groupsKv] = await Promise.all([
    open(n.alerting.rulesBucket),
    open(n.alerting.silencesBucket),
    open(n.alerting.policiesBucket),
    open(n.alerting.stateBucket),
    open(n.alerting.groupsBucket),
  ]);
  const rules = new WatchedKv<AlertRule>(rulesKv);
  const silences = new WatchedKv<Silence>(silencesKv);
  const policies = new WatchedKv<EscalationPolicy>(policiesKv);
  const alerts = new WatchedKv<AlertRecord>(stateKv);
  const groups = new WatchedKv<GroupRecord>(groupsKv);
  const config = new AlertingConfigHandler({ rules, silences, policies }, o.clock);
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
