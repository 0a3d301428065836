/** JetStream publishes and KV compare-and-set writes over the muxed inbox, on real JetStream. */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { names } from '@sb/contracts';
import { cleanupJetStream, testEnv, uniquePrefix } from '@sb/testing';
import { ensureStream, streamConfig } from './jetstream-setup';
import { jsPublish, JetStreamWriteError, KvWriter } from './js-publish';
import { RequestMux } from './request-mux';

const enc = new TextEncoder();

describe('jsPublish and KvWriter', () => {
  let nc: NatsConnection;
  let mux: RequestMux;
  const prefix = uniquePrefix();
  const n = names(prefix);
  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
    mux = new RequestMux(nc);
    await ensureStream(await jetstreamManager(nc), streamConfig(n, 'tasks'));
  });
  afterAll(async () => {
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  it('stores a message and acknowledges it with its sequence; the same msg id within the window is a duplicate', async () => {
    const subject = n.queue.subject('echo', 'high');
    const a = await jsPublish(mux, subject, enc.encode('{"a":1}'), { msgID: 'm1', timeoutMs: 2_000 });
    expect(a).toEqual({ stream: n.queue.stream, seq: expect.any(Number), duplicate: false });
    const b = await jsPublish(mux, subject, enc.encode('{"a":1}'), { msgID: 'm1', timeoutMs: 2_000 });
    expect(b).toEqual({ stream: n.queue.stream, seq: a.seq, duplicate: true });
    const stored = await (await jetstreamManager(nc)).streams.getMessage(n.queue.stream, { seq: a.seq });
    expect(stored?.string()).toBe('{"a":1}');
  });

  it('refuses a subject no stream captures (no responders), and says so', async () => {
    await expect(jsPublish(mux, `${prefix}.nowhere`, enc.encode('x'), { timeoutMs: 2_000 })).rejects.toThrow(/no responders/);
  });

  it('creates a key once, updates it only from its current revision, and creates again over a deleted key', async () => {
    const bucket = `${n.buckets.tasks}_w`;
    const kv = await new Kvm(jetstream(nc)).create(bucket, { history: 1 });
    const w = new KvWriter(mux, kv, bucket, 2_000);
    const r1 = await w.create('t.k', enc.encode('one'));
    expect((await kv.get('t.k'))?.string()).toBe('one');
    const lost = await w.create('t.k', enc.encode('two')).catch((e: unknown) => e);
    expect(lost).toMatchObject({ message: expect.stringMatching(/wrong last sequence/) });
    const r2 = await w.update('t.k', enc.encode('two'), r1);
    expect(r2).toBeGreaterThan(r1);
    const stale = await w.update('t.k', enc.encode('stale'), r1).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(JetStreamWriteError);
    expect((stale as JetStreamWriteError).api_error.err_code).toBe(10071);
    expect((await kv.get('t.k'))?.string()).toBe('two');
    await kv.delete('t.k');
    await w.create('t.k', enc.encode('three'));
    expect((await kv.get('t.k'))?.string()).toBe('three');
  });
});
