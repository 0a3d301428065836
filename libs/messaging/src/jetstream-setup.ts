/**
 * Makes the declared JetStream topology (libs/contracts topology.ts) real. A service's boot
 * calls `ensureTopology` once: what it owns is created or brought to its declaration; what it
 * only uses is created if it is missing (same declaration), so start order never matters and
 * only an owner ever reconfigures anything. Keyed consumers are created by their owner when the
 * key is known, through the returned `Topology`.
 */
import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { KV, Kvm } from '@nats-io/kv';
import {
  type BucketKey,
  Buckets,
  type ConsumerDecl,
  DEFAULT_TOPOLOGY_SETTINGS,
  type DurableKey,
  type DurableParam,
  Durables,
  type Names,
  type StreamKey,
  Streams,
  topologyOf,
  type TopologySettings,
} from '@sb/contracts';

const NANOS_PER_MS = 1_000_000;
const nanos = (ms: number | undefined) => (ms ? ms * NANOS_PER_MS : undefined);

/** What ensuring the topology needs of a connection (NatsClient has it; so does a test's). */
export interface TopologyClient {
  jsm: JetStreamManager;
  kvm: Kvm;
  names: Names;
}

/**
 * The settings from a service's configuration: each variable it defines overrides the default,
 * so services that share a stream read the same shared variables (taskConfigShape) and agree.
 */
export function topologySettings(c: Record<string, unknown>): TopologySettings {
  const num = (key: string, scale = 1): number | undefined => (typeof c[key] === 'number' ? (c[key] as number) * scale : undefined);
  const d = DEFAULT_TOPOLOGY_SETTINGS;
  return {
    replicas: num('JETSTREAM_REPLICAS') ?? d.replicas,
    taskRecordTtlMs: num('TASK_RECORD_TTL_S', 1000) ?? d.taskRecordTtlMs,
    idempotencyTtlMs: num('IDEMPOTENCY_TTL_S', 1000) ?? d.idempotencyTtlMs,
    taskEventsMaxAgeMs: d.taskEventsMaxAgeMs,
    deadLetterMaxAgeMs: d.deadLetterMaxAgeMs,
    duplicateWindowMs: d.duplicateWindowMs,
    taskAckWaitMs: num('TASK_ACK_WAIT_MS') ?? d.taskAckWaitMs,
    taskMaxAttempts: num('TASK_MAX_ATTEMPTS') ?? d.taskMaxAttempts,
    securityEventsMaxAgeMs: d.securityEventsMaxAgeMs,
    securityEventsMaxBytes: d.securityEventsMaxBytes,
    securityEventsMaxMsgs: d.securityEventsMaxMsgs,
    spansMaxAgeMs: num('TRACE_SPANS_MAX_AGE_S', 1000) ?? d.spansMaxAgeMs,
    spansMaxBytes: num('TRACE_SPANS_MAX_BYTES') ?? d.spansMaxBytes,
    alertsMaxAgeMs: num('ALERTING_STREAM_MAX_AGE_MS') ?? d.alertsMaxAgeMs,
    alertsMaxBytes: num('ALERTING_STREAM_MAX_BYTES') ?? d.alertsMaxBytes,
    notifyDedupeWindowMs: num('NOTIFY_DEDUPE_WINDOW_MS') ?? d.notifyDedupeWindowMs,
    notifyRetentionMs: num('NOTIFY_RETENTION_MS') ?? d.notifyRetentionMs,
    notifyLogPerChannel: num('NOTIFY_LOG_PER_CHANNEL') ?? d.notifyLogPerChannel,
    notifyLogMaxAgeMs: num('NOTIFY_LOG_MAX_AGE_MS') ?? d.notifyLogMaxAgeMs,
    incidentTtlMs: num('RECOVERY_INCIDENT_TTL_S', 1000) ?? d.incidentTtlMs,
  };
}

/** A declared stream as a JetStream stream config. */
export function streamConfig(n: Names, key: StreamKey, s: TopologySettings = DEFAULT_TOPOLOGY_SETTINGS): Partial<StreamConfig> & { name: string } {
  const d = Streams[key];
  const l = d.limits(s);
  const cfg: Partial<StreamConfig> & { name: string } = {
    name: d.name(n),
    subjects: d.subjects(n),
    retention: d.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: s.replicas,
    max_age: nanos(l.maxAgeMs) ?? 0,
    discard: l.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
  };
  if (l.maxBytes) cfg.max_bytes = l.maxBytes;
  if (l.maxMsgs) cfg.max_msgs = l.maxMsgs;
  if (l.maxMsgsPerSubject) cfg.max_msgs_per_subject = l.maxMsgsPerSubject;
  if (l.maxMsgSize) cfg.max_msg_size = l.maxMsgSize;
  if (l.duplicateWindowMs) cfg.duplicate_window = nanos(l.duplicateWindowMs);
  return cfg;
}

/** A declared consumer, for one key, as a JetStream consumer config. */
export function durableConfig<K extends DurableKey>(n: Names, key: K, p: DurableParam<K>, s: TopologySettings = DEFAULT_TOPOLOGY_SETTINGS, now = Date.now()): ConsumerConfig {
  const d = Durables[key] as unknown as ConsumerDecl<DurableParam<K>>;
  const cfg: Partial<ConsumerConfig> = {
    durable_name: d.durable(n, p),
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(d.ackWaitMs(s)),
    max_ack_pending: d.maxAckPending,
  };
  if (d.filter) cfg.filter_subject = d.filter(n, p);
  if (d.maxDeliver) cfg.max_deliver = d.maxDeliver(s);
  if (d.maxWaiting) cfg.max_waiting = d.maxWaiting;
  if (d.start.from === 'all') cfg.deliver_policy = DeliverPolicy.All;
  else {
    cfg.deliver_policy = DeliverPolicy.StartTime;
    cfg.opt_start_time = new Date(now - d.start.backMs(s)).toISOString();
  }
  return cfg as ConsumerConfig;
}

const notFound = (e: unknown) => /not found/i.test((e as Error).message ?? '') || (e as { name?: string }).name === 'StreamNotFoundError';
const alreadyThere = (e: unknown) => /already in use|already exists|exists/i.test((e as Error).message ?? '');

/** Create the stream; when `reconfigure` (its owner), also bring an existing one to this config. */
export async function ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }, reconfigure = true): Promise<void> {
  try {
    await jsm.streams.info(cfg.name);
    if (reconfigure) await jsm.streams.update(cfg.name, cfg);
  } catch (e) {
    if (!notFound(e)) throw e;
    try {
      await jsm.streams.add(cfg);
    } catch (addErr) {
      // Another replica or service created it between our info and add. nats-server may say so
      // as "subjects overlap with an existing stream" (the other create, not yet registered by
      // name, already holds the subjects): the stream being there now is what counts.
      if (alreadyThere(addErr)) return;
      if (!(await jsm.streams.info(cfg.name).then(() => true, () => false))) throw addErr;
    }
  }
}

async function ensureConsumer(jsm: JetStreamManager, stream: string, cfg: ConsumerConfig, reconfigure: boolean): Promise<void> {
  try {
    await jsm.consumers.info(stream, cfg.durable_name!);
    // Only what JetStream lets change on a live consumer.
    if (reconfigure) await jsm.consumers.update(stream, cfg.durable_name!, { ack_wait: cfg.ack_wait, max_deliver: cfg.max_deliver, max_ack_pending: cfg.max_ack_pending });
  } catch (e) {
    if (!notFound(e)) throw e;
    try {
      await jsm.consumers.add(stream, cfg);
    } catch (addErr) {
      if (!alreadyThere(addErr)) throw addErr;
    }
  }
}

/** Open (creating if needed) a declared bucket; its owner also brings the TTL and replicas to the declaration. */
async function ensureBucket(client: TopologyClient, key: BucketKey, s: TopologySettings, owner: boolean): Promise<KV> {
  const d = Buckets[key];
  const name = d.name(client.names);
  const ttl = (d as { ttlMs?: (s: TopologySettings) => number }).ttlMs?.(s) ?? 0;
  const kv = await client.kvm.create(name, { history: 1, replicas: s.replicas, ttl, storage: StorageType.File, allow_direct: true });
  if (owner) {
    const stream = `KV_${name}`;
    const info = await client.jsm.streams.info(stream);
    if (info.config.max_age !== ttl * NANOS_PER_MS || info.config.num_replicas !== s.replicas) {
      await client.jsm.streams.update(stream, { ...info.config, max_age: ttl * NANOS_PER_MS, num_replicas: s.replicas });
    }
  }
  return kv;
}

/** A service's view of the topology once ensured: its buckets, and its keyed consumers. */
export class Topology {
  constructor(
    private readonly client: TopologyClient,
    readonly service: string,
    readonly settings: TopologySettings,
    private readonly kvs: ReadonlyMap<BucketKey, KV>,
  ) {}

  /** A bucket this service owns or uses (declared in topology.ts). */
  bucket(key: BucketKey): KV {
    const kv = this.kvs.get(key);
    if (!kv) throw new Error(`${this.service} does not declare bucket ${key} (libs/contracts topology.ts)`);
    return kv;
  }

  /** A stream that is created on first use (the span stream). */
  ensureStream(key: StreamKey): Promise<void> {
    return ensureStream(this.client.jsm, streamConfig(this.client.names, key, this.settings), Streams[key].owner === this.service);
  }

  /** One consumer of a keyed declaration (a capability and priority, a channel), created or brought to it. */
  async ensureDurable<K extends DurableKey>(key: K, p: DurableParam<K>): Promise<void> {
    const d = Durables[key];
    const stream = Streams[d.stream].name(this.client.names);
    await ensureConsumer(this.client.jsm, stream, durableConfig(this.client.names, key, p, this.settings), d.owner === this.service);
  }

  /** Drop one consumer of a keyed declaration (a deleted channel's); a missing one is fine. */
  async removeDurable<K extends DurableKey>(key: K, p: DurableParam<K>): Promise<void> {
    const d = Durables[key];
    await this.client.jsm.consumers.delete(Streams[d.stream].name(this.client.names), d.durable(this.client.names, p as never)).catch((e: unknown) => {
      if (!notFound(e)) throw e;
    });
  }
}

/** Create what `service` owns (brought to its declaration) and what it uses (if missing); open its buckets. */
export async function ensureTopology(client: TopologyClient, service: string, s: TopologySettings = DEFAULT_TOPOLOGY_SETTINGS): Promise<Topology> {
  const mine = topologyOf(service);
  await Promise.all(mine.streams.map((k) => ensureStream(client.jsm, streamConfig(client.names, k, s), Streams[k].owner === service)));
  const kvs = new Map<BucketKey, KV>();
  await Promise.all(mine.buckets.map(async (k) => kvs.set(k, await ensureBucket(client, k, s, Buckets[k].owner === service))));
  const topology = new Topology(client, service, s, kvs);
  await Promise.all(mine.durables.map((k) => topology.ensureDurable(k, undefined as DurableParam<typeof k>)));
  return topology;
}
