/** What the fleet samples read from JetStream: pending tasks per task consumer, dead letters per capability. */
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { names } from '@sb/contracts';
import { ensureStream, streamConfig } from '@sb/messaging';
import { cleanupJetStream, testEnv, uniquePrefix } from '@sb/testing';
import { JetStreamQueueProbe } from './queue-probe';

describe('JetStream queue probe', () => {
  let nc: NatsConnection;
  const prefix = uniquePrefix();
  const n = names(prefix);
  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
  });
  afterAll(async () => {
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  it('reads zero when the streams do not exist yet', async () => {
    const probe = new JetStreamQueueProbe(await jetstreamManager(nc), n);
    expect(await probe.pending()).toEqual([]);
    expect(await probe.deadLetters()).toEqual(new Map());
  });

  it('reads num_pending per capability and priority, and dead letters per capability', async () => {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, streamConfig(n, 'tasks'));
    await ensureStream(jsm, streamConfig(n, 'deadLetters'));
    for (const [cap, prio] of [['echo', 'high'], ['echo', 'normal'], ['code-analysis', 'low']] as const) {
      await jsm.consumers.add(n.queue.stream, { durable_name: n.queue.consumer(cap, prio), filter_subject: n.queue.subject(cap, prio), ack_policy: AckPolicy.Explicit });
    }
    const js = jetstream(nc);
    for (let i = 0; i < 3; i++) await js.publish(n.queue.subject('echo', 'normal'), '{}');
    await js.publish(n.queue.subject('code-analysis', 'low'), '{}');
    for (let i = 0; i < 2; i++) await js.publish(n.deadLetters.subject('code-analysis'), '{}');
    const probe = new JetStreamQueueProbe(jsm, n);
    const pending = (await probe.pending()).sort((a, b) => `${a.capability}${a.priority}`.localeCompare(`${b.capability}${b.priority}`));
    expect(pending).toEqual([
      { capability: 'code-analysis', priority: 'low', pending: 1 },
      { capability: 'echo', priority: 'high', pending: 0 },
      { capability: 'echo', priority: 'normal', pending: 3 },
    ]);
    expect(await probe.deadLetters()).toEqual(new Map([['code-analysis', 2]]));
  });
});
