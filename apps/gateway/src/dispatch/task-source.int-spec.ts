/**
 * TaskSource against real JetStream: a drained priority is not pulled again until a hint for it
 * (or the poll period), so at low load a take costs one pull, not one per priority. Pulls are
 * counted as the server sees them: requests on the consumers' `$JS.API.CONSUMER.MSG.NEXT` subjects.
 */
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { names, type Priority } from '@sb/contracts';
import { ensureStream, streamConfig } from '@sb/messaging';
import { cleanupJetStream, testEnv, uniquePrefix } from '@sb/testing';
import { TaskSource } from './task-source';

describe('TaskSource pulls', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const prefix = uniquePrefix();
  const n = names(prefix);
  const pulls: string[] = [];

  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
    jsm = await jetstreamManager(nc);
    await ensureStream(jsm, streamConfig(n, 'tasks'));
    nc.subscribe(`$JS.API.CONSUMER.MSG.NEXT.${n.queue.stream}.>`, { callback: (_e, m) => void pulls.push(m.subject.split('.').pop()!) });
    await nc.flush();
  });
  afterAll(async () => {
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  it('pulls a drained priority again only after a hint for it; a hint for another priority leaves it alone', async () => {
    const topology = {
      ensureDurable: async (_kind: 'taskQueue', o: { capability: string; priority: Priority }) => {
        await jsm.consumers.add(n.queue.stream, { durable_name: n.queue.consumer(o.capability, o.priority), filter_subject: n.queue.subject(o.capability, o.priority), ack_policy: AckPolicy.Explicit });
      },
    };
    // A long poll period: only hints make a drained queue be looked at again here.
    const source = new TaskSource(nc, n, topology as never, 60_000);
    const consumer = (p: Priority) => n.queue.consumer('echo', p);
    const pullsDuring = async (fn: () => Promise<unknown>) => {
      await nc.flush();
      const before = pulls.length;
      await fn();
      await nc.flush();
      return pulls.slice(before);
    };
    // First take: every priority is pulled once and found empty.
    expect(await pullsDuring(() => source.pull(['echo'], 4))).toEqual([consumer('high'), consumer('normal'), consumer('low')]);
    // All drained: no pull at all.
    expect(await pullsDuring(() => source.pull(['echo'], 4))).toEqual([]);

    await jetstream(nc).publish(n.queue.subject('echo', 'normal'), '{"taskId":"t1"}');
    source.hinted('echo', 'normal');
    let got: Awaited<ReturnType<TaskSource['pull']>> = [];
    expect(await pullsDuring(async () => (got = await source.pull(['echo'], 4)))).toEqual([consumer('normal')]);
    expect(got.map((m) => new TextDecoder().decode(m.data))).toEqual(['{"taskId":"t1"}']);
    for (const m of got) m.ack();

    // A hint without a priority (a task handed back): every priority is looked at again.
    source.hinted('echo');
    expect(await pullsDuring(() => source.pull(['echo'], 4))).toEqual([consumer('high'), consumer('normal'), consumer('low')]);
    source.close();
  });
});
