/** The console's queue probe against real JetStream: depth per consumer, and the wait of the first task not yet handed out. */
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { names } from '@sb/contracts';
import { ensureStream, streamConfig } from '@sb/messaging';
import { cleanupJetStream, testEnv, uniquePrefix } from '@sb/testing';
import { JetStreamQueueState } from './queue-probe';

describe('console queue probe', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const prefix = uniquePrefix();
  const n = names(prefix);

  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  it('reads nothing before the tasks stream exists', async () => {
    expect(await new JetStreamQueueState(() => jsm, n).read(Date.now())).toEqual([]);
  });

  it('reads pending tasks and how long the first one not yet delivered has waited', async () => {
    await ensureStream(jsm, streamConfig(n, 'tasks'));
    for (const priority of ['high', 'normal'] as const) {
      await jsm.consumers.add(n.queue.stream, { durable_name: n.queue.consumer('echo', priority), filter_subject: n.queue.subject('echo', priority), ack_policy: AckPolicy.Explicit });
    }
    const js = jetstream(nc);
    // Another capability's message in between: the age must be read on the consumer's own subject.
    await js.publish(n.queue.subject('echo', 'normal'), '{"n":1}');
    await js.publish(n.queue.subject('other', 'normal'), '{}');
    const second = await js.publish(n.queue.subject('echo', 'normal'), '{"n":2}');
    const probe = new JetStreamQueueState(() => jsm, n);

    const firstStored = (await jsm.streams.getMessage(n.queue.stream, { seq: 1 }))!.time.getTime();
    const now = firstStored + 10_000;
    const before = await probe.read(now);
    expect(before.find((q) => q.priority === 'high')).toEqual({ capability: 'echo', priority: 'high', pending: 0, oldestAgeSeconds: null });
    expect(before.find((q) => q.priority === 'normal')).toEqual({ capability: 'echo', priority: 'normal', pending: 2, oldestAgeSeconds: 10 });

    // Hand out the first: the oldest waiting is now the second.
    const consumer = await js.consumers.get(n.queue.stream, n.queue.consumer('echo', 'normal'));
    const m = await consumer.next();
    expect(m?.seq).toBe(1);
    const secondStored = (await jsm.streams.getMessage(n.queue.stream, { seq: second.seq }))!.time.getTime();
    const after = (await probe.read(secondStored + 4_000)).find((q) => q.priority === 'normal');
    expect(after).toEqual({ capability: 'echo', priority: 'normal', pending: 1, oldestAgeSeconds: 4 });
  });
});
