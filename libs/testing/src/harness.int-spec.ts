// Proves the harness itself: the servers global-setup provided, the helpers,
// and local-servers' restart semantics (same port; JetStream file data survives).
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import {
  cleanupJetStream,
  cleanupRedisKeys,
  collectMessages,
  parseHostPort,
  redisKeyPrefix,
  ServerHandle,
  startNatsServer,
  startRedisServer,
  testEnv,
  uniquePrefix,
  waitForMessage,
} from '@sb/testing';

jest.setTimeout(30_000);

describe('test harness', () => {
  const env = testEnv();

  it('exports the servers it chose, never the shared 4222/6379 ones unless asked to', () => {
    expect(['local', 'containers', 'external']).toContain(env.mode);
    if (env.mode !== 'external') {
      expect(parseHostPort(env.natsUrl).port).not.toBe(4222);
      expect(parseHostPort(env.redisUrl).port).not.toBe(6379);
    }
  });

  it('unique prefixes are NATS tokens and, upper-cased, stream names', () => {
    const p = uniquePrefix();
    expect(p).toMatch(/^t[a-z0-9]{10}$/);
    expect(p.toUpperCase()).toMatch(/^[A-Z0-9]+$/);
    expect(uniquePrefix()).not.toBe(p);
  });

  describe('NATS', () => {
    let nc: NatsConnection;
    const p = uniquePrefix();
    beforeAll(async () => {
      nc = await connect({ servers: env.natsUrl, name: 'harness-int-spec' });
    });
    afterAll(async () => {
      await cleanupJetStream(nc, p);
      await nc.close();
    });

    it('publishes to a JetStream stream and reads the message back', async () => {
      const stream = `${p.toUpperCase()}_EVENTS`;
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: stream, subjects: [`${p}.events.>`], storage: StorageType.File });
      const ack = await jetstream(nc).publish(`${p}.events.created`, JSON.stringify({ n: 1 }));
      expect(ack.stream).toBe(stream);
      const stored = await jsm.streams.getMessage(stream, { seq: ack.seq });
      expect(stored?.json()).toEqual({ n: 1 });

      expect(await cleanupJetStream(nc, p)).toEqual([stream]);
      await expect(jsm.streams.info(stream)).rejects.toThrow(/stream not found/i);
    });

    it('waitForMessage resolves on the matching event from another connection', async () => {
      const other = await connect({ servers: env.natsUrl });
      try {
        const waiter = waitForMessage<{ id: number }>(nc, `${p}.evt.*`, { filter: (m) => m.data.id === 2 });
        await waiter.ready;
        other.publish(`${p}.evt.a`, JSON.stringify({ id: 1 }));
        other.publish(`${p}.evt.b`, JSON.stringify({ id: 2 }));
        const got = await waiter;
        expect(got.subject).toBe(`${p}.evt.b`);
        expect(got.data).toEqual({ id: 2 });
      } finally {
        await other.close();
      }
    });

    it('waitForMessage times out with an error naming the subject', async () => {
      await expect(waitForMessage(nc, `${p}.silent`, { timeoutMs: 100 })).rejects.toThrow(`"${p}.silent" within 100 ms`);
    });

    it('collectMessages gathers messages in order', async () => {
      const collector = collectMessages<string>(nc, `${p}.col`);
      await collector.ready;
      for (const s of ['a', 'b', 'c']) nc.publish(`${p}.col`, s);
      const got = await collector.waitForCount(3);
      expect(got.map((m) => m.data)).toEqual(['a', 'b', 'c']);
      await collector.stop();
    });
  });

  describe('Redis', () => {
    const prefix = redisKeyPrefix();
    let redis: Redis;
    beforeAll(() => {
      redis = new Redis(env.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
    });
    afterAll(async () => {
      await cleanupRedisKeys(redis, prefix);
      await redis.quit();
    });

    it('answers PING and SET/GET under the key prefix', async () => {
      expect(await redis.ping()).toBe('PONG');
      await redis.set(`${prefix}greeting`, 'hello');
      expect(await redis.get(`${prefix}greeting`)).toBe('hello');
      expect(await cleanupRedisKeys(redis, prefix)).toBe(1);
      expect(await redis.exists(`${prefix}greeting`)).toBe(0);
    });
  });

  describe('local servers', () => {
    const started: ServerHandle[] = [];
    afterAll(async () => {
      await Promise.all(started.map((s) => s.destroy()));
    });

    it('startRedisServer restarts on the same port', async () => {
      const server = await startRedisServer();
      started.push(server);
      const { port, pid } = server;
      await server.restart();
      expect(server.port).toBe(port);
      expect(server.pid).not.toBe(pid);
      const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
      try {
        expect(await redis.ping()).toBe('PONG');
      } finally {
        await redis.quit();
      }
    });

    it.each([
      ['stop + restart', undefined],
      ['SIGKILL + restart', 'SIGKILL'],
    ] as const)('startNatsServer keeps a JetStream file-stored message across %s', async (_label, signal) => {
      const server = await startNatsServer({ jetstream: true });
      started.push(server);
      const p = uniquePrefix();
      const stream = `${p.toUpperCase()}_DURABLE`;

      let nc = await connect({ servers: server.url, reconnect: false });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: stream, subjects: [`${p}.>`], storage: StorageType.File });
      const ack = await jetstream(nc).publish(`${p}.kept`, JSON.stringify({ survives: true }));
      await nc.close();

      const port = server.port;
      if (signal) server.kill(signal);
      await server.restart();
      expect(server.port).toBe(port);
      expect(server.running).toBe(true);

      nc = await connect({ servers: server.url, reconnect: false });
      try {
        const stored = await (await jetstreamManager(nc)).streams.getMessage(stream, { seq: ack.seq });
        expect(stored?.subject).toBe(`${p}.kept`);
        expect(stored?.json()).toEqual({ survives: true });
      } finally {
        await nc.close();
      }
    });
  });
});
