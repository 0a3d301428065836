/**
 * The JetStream topology as data: every stream, KV bucket and durable consumer, declared once
 * with the service that owns it, the services that also use it, and its settings.
 *
 *  - `ensureTopology(client, service, settings)` (libs/messaging) creates what a service owns
 *    (and updates it to this declaration), and creates what it only uses when it is missing, so
 *    start order never matters and only the owner ever reconfigures anything.
 *  - Consumers keyed by a parameter (a capability and priority, a notification channel) are
 *    created by their owner when the parameter becomes known: `ensureConsumer(...)`.
 *  - The deploy generator reads the same map (the KEDA scalers of agent pools).
 *
 * Subjects and headers are declared in subjects.ts; what travels on them, in endpoints.ts and
 * events.ts. Nothing here depends on a NATS client library: it is plain data.
 */
import { securityEventNames } from './auth-schemas';
import { type Names, PRIORITIES, type Priority, TERMINAL_STATUSES } from './subjects';

/**
 * The task consumers' `max_deliver`: room for the attempts and for deliveries that never reached
 * an agent (a start refused by storage trouble); the last one dead-letters whatever it finds.
 */
export function taskMaxDeliver(maxAttempts: number): number {
  return maxAttempts * 2 + 5;
}

export const SERVICE_NAMES = ['gateway', 'auth', 'tenancy', 'metrics-collector', 'alerting', 'recovery', 'agent-worker'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** The tunables the declarations read. Services pass what their configuration sets; the rest is these defaults. */
export interface TopologySettings {
  /** JetStream replicas of every stream and bucket (1, or 3 on a cluster). */
  replicas: number;
  taskRecordTtlMs: number;
  idempotencyTtlMs: number;
  taskEventsMaxAgeMs: number;
  deadLetterMaxAgeMs: number;
  /** Publish deduplication window (Nats-Msg-Id) of the task and dead-letter streams. */
  duplicateWindowMs: number;
  /** How long a worker may hold a task without a keep-alive before JetStream redelivers it. */
  taskAckWaitMs: number;
  /** Attempts before a task is dead-lettered; the server's `max_deliver` is a backstop above it. */
  taskMaxAttempts: number;
  securityEventsMaxAgeMs: number;
  securityEventsMaxBytes: number;
  securityEventsMaxMsgs: number;
  spansMaxAgeMs: number;
  spansMaxBytes: number;
  alertsMaxAgeMs: number;
  alertsMaxBytes: number;
  notifyDedupeWindowMs: number;
  notifyRetentionMs: number;
  notifyLogPerChannel: number;
  notifyLogMaxAgeMs: number;
  incidentTtlMs: number;
}

export const DEFAULT_TOPOLOGY_SETTINGS: TopologySettings = {
  replicas: 1,
  taskRecordTtlMs: 7 * DAY,
  idempotencyTtlMs: DAY,
  taskEventsMaxAgeMs: DAY,
  deadLetterMaxAgeMs: 14 * DAY,
  duplicateWindowMs: 2 * MIN,
  taskAckWaitMs: 30_000,
  taskMaxAttempts: 3,
  securityEventsMaxAgeMs: 7 * DAY,
  securityEventsMaxBytes: 256 * 1024 ** 2,
  securityEventsMaxMsgs: 1_000_000,
  spansMaxAgeMs: DAY,
  spansMaxBytes: 256 * 1024 ** 2,
  alertsMaxAgeMs: 30 * DAY,
  alertsMaxBytes: 1024 ** 3,
  notifyDedupeWindowMs: 10 * MIN,
  notifyRetentionMs: 7 * DAY,
  notifyLogPerChannel: 1_000,
  notifyLogMaxAgeMs: 7 * DAY,
  incidentTtlMs: 30 * DAY,
};

export interface StreamLimits {
  maxAgeMs?: number;
  maxBytes?: number;
  maxMsgs?: number;
  maxMsgsPerSubject?: number;
  maxMsgSize?: number;
  duplicateWindowMs?: number;
  /** Which messages go when a limit is reached (JetStream's default is `old`). */
  discard?: 'old' | 'new';
}

export interface StreamDecl {
  owner: ServiceName;
  /** Services that publish to or read it, and create it if they start before its owner. */
  users: readonly ServiceName[];
  name: (n: Names) => string;
  subjects: (n: Names) => string[];
  /** `workqueue`: a message is gone once acked; `limits`: kept until its limits drop it. */
  retention: 'workqueue' | 'limits';
  limits: (s: TopologySettings) => StreamLimits;
  /** Created by whoever first writes to it, not at boot (the span stream: tracing may be off). */
  createdOnFirstUse?: true;
  doc: string;
}

export interface BucketDecl {
  owner: ServiceName;
  users: readonly ServiceName[];
  name: (n: Names) => string;
  /** Entries older than this are dropped (0 or absent: kept). */
  ttlMs?: (s: TopologySettings) => number;
  doc: string;
}

/** A durable pull consumer. `P` is its parameter: `void` for one per fleet. */
export interface ConsumerDecl<P = void> {
  owner: ServiceName;
  /** What one instance of it is for, when there are many (created when the parameter is known, not at boot). */
  keyedBy?: string;
  stream: StreamKey;
  durable: (n: Names, p: P) => string;
  filter?: (n: Names, p: P) => string;
  /** Where a new consumer starts: every message, or `startBackMs` before now (the dedupe window that covers a re-creation). */
  start: { from: 'all' } | { from: 'time'; backMs: (s: TopologySettings) => number };
  ackWaitMs: (s: TopologySettings) => number;
  maxAckPending: number;
  maxDeliver?: (s: TopologySettings) => number;
  maxWaiting?: number;
  /**
   * The consumers of one agent pool, whose lag is its KEDA scaling signal: given the pool's
   * capabilities, every parameter it pulls with.
   */
  scalesAgentPool?: (capabilities: readonly string[]) => P[];
  doc: string;
}

const stream = (d: StreamDecl) => d;
const bucket = (d: BucketDecl) => d;

const TASK_SERVICES = ['gateway', 'agent-worker', 'recovery'] as const satisfies readonly ServiceName[];
const ALL_SERVICES = SERVICE_NAMES;

export const Streams = {
  tasks: stream({
    owner: 'gateway',
    users: TASK_SERVICES,
    name: (n) => n.queue.stream,
    subjects: (n) => [n.queue.all],
    retention: 'workqueue',
    limits: (s) => ({ duplicateWindowMs: s.duplicateWindowMs, discard: 'old' }),
    doc: 'The work queue: one subject per capability and priority; a task leaves it when its worker acks it.',
  }),
  deadLetters: stream({
    owner: 'recovery',
    users: TASK_SERVICES,
    name: (n) => n.deadLetters.stream,
    subjects: (n) => [n.deadLetters.all],
    retention: 'limits',
    limits: (s) => ({ maxAgeMs: s.deadLetterMaxAgeMs, duplicateWindowMs: s.duplicateWindowMs }),
    doc: 'Tasks that ran out of attempts or could not be routed, kept for inspection and redrive.',
  }),
  taskEvents: stream({
    owner: 'gateway',
    users: [...TASK_SERVICES, 'tenancy'],
    name: (n) => n.taskEvents.stream,
    // Final outcomes are kept for replay; `queued`/`running` are live-only events, so a task
    // costs one stored event instead of three.
    subjects: (n) => [...TERMINAL_STATUSES].map((s) => n.tasks.eventsWithStatus(s)),
    retention: 'limits',
    limits: (s) => ({ maxAgeMs: s.taskEventsMaxAgeMs }),
    doc: "Every task's final event, for replay (SSE Last-Event-ID) and usage accounting.",
  }),
  securityEvents: stream({
    owner: 'auth',
    users: ['gateway'],
    name: (n) => securityEventNames(n.prefix).stream,
    subjects: (n) => [securityEventNames(n.prefix).all],
    retention: 'limits',
    // Refusals are aggregated at the source (one event per second per source and reason), and the
    // stream is bounded on every axis, oldest first: a flood cannot fill the storage the task streams share.
    limits: (s) => ({
      maxAgeMs: s.securityEventsMaxAgeMs,
      maxBytes: s.securityEventsMaxBytes,
      maxMsgs: s.securityEventsMaxMsgs,
      maxMsgSize: 4 * 1024,
      discard: 'old',
    }),
    doc: 'Refusals (aggregated per second) and key changes, captured from fire-and-forget publishes, for the security report.',
  }),
  spans: stream({
    owner: 'gateway',
    users: ALL_SERVICES,
    name: (n) => n.spans.stream,
    subjects: (n) => [n.spans.all],
    retention: 'limits',
    limits: (s) => ({ maxAgeMs: s.spansMaxAgeMs, maxBytes: s.spansMaxBytes, maxMsgSize: 1024 * 1024, discard: 'old' }),
    createdOnFirstUse: true,
    doc: "Finished spans, batched per trace by every service, for a task's trace view.",
  }),
  alerts: stream({
    owner: 'alerting',
    users: [],
    name: (n) => n.alerting.stream,
    subjects: (n) => [n.alerts.all],
    retention: 'limits',
    limits: (s) => ({ maxAgeMs: s.alertsMaxAgeMs, maxBytes: s.alertsMaxBytes, duplicateWindowMs: 2 * MIN }),
    doc: 'Every alert state change, for replay.',
  }),
  notificationOutbox: stream({
    owner: 'alerting',
    users: [],
    name: (n) => n.channels.outboxStream,
    subjects: (n) => [n.channels.outbox],
    retention: 'limits',
    limits: (s) => ({ maxAgeMs: Math.max(s.notifyRetentionMs, s.notifyDedupeWindowMs), duplicateWindowMs: s.notifyDedupeWindowMs, discard: 'old' }),
    doc: 'Every notification the alerting engine decided on, deduplicated by its id.',
  }),
  notificationDeliveries: stream({
    owner: 'alerting',
    users: [],
    name: (n) => n.channels.deliveryStream,
    subjects: (n) => [n.channels.deliveryAll],
    retention: 'workqueue',
    limits: (s) => ({ duplicateWindowMs: s.notifyDedupeWindowMs, discard: 'old' }),
    doc: 'One message per notification and channel, on the channel’s own subject, so a slow receiver holds up only itself.',
  }),
  notificationLog: stream({
    owner: 'alerting',
    users: [],
    name: (n) => n.channels.logStream,
    subjects: (n) => [n.channels.logAll],
    retention: 'limits',
    limits: (s) => ({ maxAgeMs: s.notifyLogMaxAgeMs, maxMsgsPerSubject: s.notifyLogPerChannel, discard: 'old' }),
    doc: 'Every delivery attempt, bounded per channel.',
  }),
} as const;
export type StreamKey = keyof typeof Streams;

export const Buckets = {
  tasks: bucket({ owner: 'gateway', users: TASK_SERVICES, name: (n) => n.buckets.tasks, ttlMs: (s) => s.taskRecordTtlMs, doc: 'Task records, revision-fenced.' }),
  idempotency: bucket({ owner: 'gateway', users: TASK_SERVICES, name: (n) => n.buckets.idempotency, ttlMs: (s) => s.idempotencyTtlMs, doc: 'Idempotency key → task id, per tenant.' }),
  capabilities: bucket({ owner: 'agent-worker', users: [...TASK_SERVICES, 'metrics-collector'], name: (n) => n.buckets.capabilities, doc: 'The capability catalog: what some worker has offered.' }),
  keys: bucket({ owner: 'auth', users: [], name: (n) => n.buckets.keys, doc: 'API keys, stored as hashes.' }),
  signingKeys: bucket({ owner: 'auth', users: [], name: (n) => `${n.buckets.keys}_signing`, doc: 'The JWT signing key ring, private keys encrypted.' }),
  natsAccounts: bucket({ owner: 'auth', users: [], name: (n) => `${n.buckets.keys}_nats`, doc: "Tenants' NATS accounts (public JWT claims, revocations) and the NATS users minted per API key." }),
  tenants: bucket({ owner: 'tenancy', users: [], name: (n) => n.buckets.tenants, doc: 'Tenants and their policies.' }),
  agents: bucket({ owner: 'metrics-collector', users: ['recovery', 'gateway'], name: (n) => n.buckets.agents, doc: 'The agent registry.' }),
  resilience: bucket({ owner: 'recovery', users: ['gateway', 'agent-worker'], name: (n) => n.resilience.bucket, doc: 'Circuit breakers and load-shedding state.' }),
  recoveryLeader: bucket({ owner: 'recovery', users: [], name: (n) => n.recoveryCore.leaderBucket, doc: "Recovery's leader lease." }),
  recoveryActions: bucket({ owner: 'recovery', users: [], name: (n) => n.recoveryCore.actionsBucket, ttlMs: () => DAY, doc: "Recovery's action log (restart budgets)." }),
  incidents: bucket({ owner: 'recovery', users: [], name: (n) => n.recoveryCore.incidentsBucket, ttlMs: (s) => s.incidentTtlMs, doc: 'Incidents and their timelines.' }),
  alertRules: bucket({ owner: 'alerting', users: [], name: (n) => n.alerting.rulesBucket, doc: 'Alert rules.' }),
  alertSilences: bucket({ owner: 'alerting', users: [], name: (n) => n.alerting.silencesBucket, doc: 'Silences.' }),
  alertPolicies: bucket({ owner: 'alerting', users: [], name: (n) => n.alerting.policiesBucket, doc: 'Escalation policies.' }),
  alertState: bucket({ owner: 'alerting', users: [], name: (n) => n.alerting.stateBucket, doc: 'Alert state per fingerprint (compare-and-set between replicas).' }),
  alertGroups: bucket({ owner: 'alerting', users: [], name: (n) => n.alerting.groupsBucket, doc: 'Notification state per alert group.' }),
  notifyChannels: bucket({ owner: 'alerting', users: [], name: (n) => n.channels.bucket, doc: 'Notification channels (secrets encrypted).' }),
  notifyProgress: bucket({
    owner: 'alerting',
    users: [],
    name: (n) => n.channels.progressBucket,
    ttlMs: () => 7 * DAY,
    doc: 'Per channel and alert group: the newest notification delivered, so older retries are superseded.',
  }),
} as const;
export type BucketKey = keyof typeof Buckets;

/** A delivery's HTTP attempt is at most 30 s; twice that before the server hands it to another replica. */
export const DELIVERY_ACK_WAIT_MS = 60_000;

export const Durables = {
  taskQueue: {
    owner: 'agent-worker',
    keyedBy: 'capability and priority',
    stream: 'tasks',
    durable: (n, p) => n.queue.consumer(p.capability, p.priority),
    filter: (n, p) => n.queue.subject(p.capability, p.priority),
    start: { from: 'all' },
    ackWaitMs: (s) => s.taskAckWaitMs,
    // The worker dead-letters at maxAttempts itself; this is the server-side backstop for crash loops.
    maxDeliver: (s) => taskMaxDeliver(s.taskMaxAttempts),
    maxAckPending: 100_000,
    maxWaiting: 4_096,
    scalesAgentPool: (capabilities) => capabilities.flatMap((capability) => PRIORITIES.map((priority) => ({ capability, priority }))),
    doc: 'One per capability and priority, shared by every worker that hosts the capability.',
  } satisfies ConsumerDecl<{ capability: string; priority: Priority }>,
  notificationFanout: {
    owner: 'alerting',
    stream: 'notificationOutbox',
    durable: (n) => n.channels.fanoutConsumer,
    // If it is ever recreated, what it replays is still deduplicated downstream.
    start: { from: 'time', backMs: (s) => s.notifyDedupeWindowMs },
    ackWaitMs: () => 30_000,
    maxAckPending: 1_000,
    doc: 'Fans each notification out to its channels, once, shared by every alerting replica.',
  } satisfies ConsumerDecl<void>,
  notificationDelivery: {
    owner: 'alerting',
    keyedBy: 'notification channel',
    stream: 'notificationDeliveries',
    durable: (n, p) => n.channels.deliveryConsumer(p.channelId),
    filter: (n, p) => n.channels.delivery(p.channelId),
    start: { from: 'all' },
    ackWaitMs: () => DELIVERY_ACK_WAIT_MS,
    // Retries wait as naks with a delay, so this must leave room for many.
    maxAckPending: 10_000,
    doc: "One channel's deliveries, created with the channel and removed with it.",
  } satisfies ConsumerDecl<{ channelId: string }>,
  usage: {
    owner: 'tenancy',
    stream: 'taskEvents',
    durable: (n) => `${n.taskEvents.stream}_tenancy_usage`,
    start: { from: 'all' },
    ackWaitMs: () => 30_000,
    maxAckPending: 1_000,
    doc: 'Usage accounting: every final task event, counted once per task.',
  } satisfies ConsumerDecl<void>,
} as const;
export type DurableKey = keyof typeof Durables;
/** A keyed consumer's key (`undefined` for the fleet-wide ones). */
export type DurableParam<K extends DurableKey> = Parameters<(typeof Durables)[K]['durable']>[1];
/** The consumers there is one of per fleet (no key): created with their owner at boot. */
export type FleetDurableKey = { [K in DurableKey]: (typeof Durables)[K] extends { keyedBy: string } ? never : K }[DurableKey];

const keys = <O extends object>(o: O) => Object.keys(o) as (keyof O)[];

/**
 * What a service finds in place before it serves (nothing, for a name not declared here): the streams and buckets it owns or uses (but
 * not those created on first use), and the fleet-wide consumers it owns (keyed ones are created
 * when their key is known).
 */
export function topologyOf(service: string): { streams: StreamKey[]; buckets: BucketKey[]; durables: FleetDurableKey[] } {
  const touches = (d: { owner: ServiceName; users: readonly ServiceName[] }) => d.owner === service || (d.users as readonly string[]).includes(service);
  return {
    streams: keys(Streams).filter((k) => touches(Streams[k]) && !(Streams[k] as StreamDecl).createdOnFirstUse),
    buckets: keys(Buckets).filter((k) => touches(Buckets[k])),
    durables: keys(Durables).filter((k): k is FleetDurableKey => Durables[k].owner === service && !(Durables[k] as ConsumerDecl<unknown>).keyedBy),
  };
}
