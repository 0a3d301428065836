/**
 * ensureTopology on real JetStream: a service gets what it owns and uses; only an owner
 * reconfigures; a user that starts first creates what it needs from the same declaration;
 * keyed consumers come and go with their key.
 */
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { DEFAULT_TOPOLOGY_SETTINGS, names, type Names, Streams, topologyOf } from '@sb/contracts';
import { cleanupJetStream, testEnv, uniquePrefix } from '@sb/testing';
import { ensureTopology, type TopologyClient } from './jetstream-setup';

const NANOS = 1_000_000;

describe('ensureTopology', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const prefixes: string[] = [];
  const client = (): TopologyClient & { n: Names } => {
    const p = uniquePrefix();
    prefixes.push(p);
    const n = names(p);
    return { jsm, kvm: new Kvm(jetstream(nc)), names: n, n };
  };
  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    for (const p of prefixes) await cleanupJetStream(nc, p);
    await nc.drain();
  });

  it('creates the streams, buckets and fleet-wide consumers a service owns or uses, and opens its buckets', async () => {
    const c = client();
    const t = await ensureTopology(c, 'tenancy');
    expect((await jsm.streams.info(Streams.taskEvents.name(c.n))).config.subjects).toEqual(Streams.taskEvents.subjects(c.n));
    expect((await jsm.consumers.info(Streams.taskEvents.name(c.n), `${c.n.taskEvents.stream}_tenancy_usage`)).config.max_ack_pending).toBe(1_000);
    await t.bucket('tenants').put('k', 'v');
    expect((await t.bucket('tenants').get('k'))?.string()).toBe('v');
    expect(() => t.bucket('keys')).toThrow(/tenancy does not declare bucket keys/);
    // Nothing of another service's: auth's key bucket and alerting's streams are not there.
    await expect(jsm.streams.info(`KV_${c.n.buckets.keys}`)).rejects.toThrow(/not found/);
    await expect(jsm.streams.info(c.n.alerting.stream)).rejects.toThrow(/not found/);
    expect(topologyOf('tenancy').streams).toEqual(['taskEvents']);
  });

  it('lets the owner bring a stream and a bucket to new settings, and never a mere user', async () => {
    const c = client();
    await ensureTopology(c, 'gateway');
    const longer = { ...DEFAULT_TOPOLOGY_SETTINGS, taskEventsMaxAgeMs: 2 * DEFAULT_TOPOLOGY_SETTINGS.taskEventsMaxAgeMs, taskRecordTtlMs: 3_600_000 };
    // A user (the worker) with other settings changes nothing it does not own.
    await ensureTopology(c, 'agent-worker', longer);
    expect((await jsm.streams.info(c.n.taskEvents.stream)).config.max_age).toBe(DEFAULT_TOPOLOGY_SETTINGS.taskEventsMaxAgeMs * NANOS);
    expect((await jsm.streams.info(`KV_${c.n.buckets.tasks}`)).config.max_age).toBe(DEFAULT_TOPOLOGY_SETTINGS.taskRecordTtlMs * NANOS);
    // The owner (the gateway) restarted with them reconfigures both.
    await ensureTopology(c, 'gateway', longer);
    expect((await jsm.streams.info(c.n.taskEvents.stream)).config.max_age).toBe(longer.taskEventsMaxAgeMs * NANOS);
    expect((await jsm.streams.info(`KV_${c.n.buckets.tasks}`)).config.max_age).toBe(3_600_000 * NANOS);
  });

  it('lets a user that starts before the owner create what it needs from the same declaration', async () => {
    const c = client();
    const worker = await ensureTopology(c, 'agent-worker');
    await worker.ensureDurable('taskQueue', { capability: 'echo', priority: 'high' });
    const info = await jsm.consumers.info(c.n.queue.stream, c.n.queue.consumer('echo', 'high'));
    expect(info.config.filter_subject).toBe(c.n.queue.subject('echo', 'high'));
    expect(info.config.ack_wait).toBe(DEFAULT_TOPOLOGY_SETTINGS.taskAckWaitMs * NANOS);
    expect(info.config.max_deliver).toBe(DEFAULT_TOPOLOGY_SETTINGS.taskMaxAttempts * 2 + 5);
    // The owner arriving later finds it and keeps it (same declaration, nothing to fight over).
    await ensureTopology(c, 'gateway');
    expect((await jsm.streams.info(c.n.queue.stream)).config.retention).toBe('workqueue');
  });

  it('brings a keyed consumer to new settings for its owner, and removes it (twice is fine)', async () => {
    const c = client();
    const alerting = await ensureTopology(c, 'alerting');
    await alerting.ensureDurable('notificationDelivery', { channelId: 'ch_1' });
    const name = c.n.channels.deliveryConsumer('ch_1');
    expect((await jsm.consumers.info(c.n.channels.deliveryStream, name)).config.filter_subject).toBe(c.n.channels.delivery('ch_1'));
    const worker = await ensureTopology(c, 'agent-worker', { ...DEFAULT_TOPOLOGY_SETTINGS, taskAckWaitMs: 5_000 });
    await worker.ensureDurable('taskQueue', { capability: 'echo', priority: 'low' });
    const again = await ensureTopology(c, 'agent-worker', { ...DEFAULT_TOPOLOGY_SETTINGS, taskAckWaitMs: 9_000 });
    await again.ensureDurable('taskQueue', { capability: 'echo', priority: 'low' });
    expect((await jsm.consumers.info(c.n.queue.stream, c.n.queue.consumer('echo', 'low'))).config.ack_wait).toBe(9_000 * NANOS);
    await alerting.removeDurable('notificationDelivery', { channelId: 'ch_1' });
    await alerting.removeDurable('notificationDelivery', { channelId: 'ch_1' });
    await expect(jsm.consumers.info(c.n.channels.deliveryStream, name)).rejects.toThrow(/not found/);
  });

  it('is safe to run by many replicas at once', async () => {
    const c = client();
    await Promise.all(['gateway', 'gateway', 'agent-worker', 'recovery', 'tenancy'].map((s) => ensureTopology(c, s)));
    expect((await jsm.streams.info(c.n.queue.stream)).config.name).toBe(c.n.queue.stream);
  });
});
