/**
 * Streams created on first use by several processes at once (the span stream: every service's
 * first span export): every one of them must see it created, none fail. nats-server answers a
 * losing concurrent create "subjects overlap with an existing stream" as well as "already in use".
 */
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { names } from '@sb/contracts';
import { cleanupJetStream, testEnv, uniquePrefix } from '@sb/testing';
import { ensureStream, streamConfig } from './jetstream-setup';

describe('ensureStream, raced', () => {
  const conns: NatsConnection[] = [];
  const prefixes: string[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 6; i++) conns.push(await connect({ servers: testEnv().natsUrl }));
  });
  afterAll(async () => {
    for (const p of prefixes) await cleanupJetStream(conns[0], p);
    await Promise.all(conns.map((c) => c.drain()));
  });

  it('succeeds for every process creating the same stream at the same moment, round after round', async () => {
    const managers = await Promise.all(conns.map((c) => jetstreamManager(c)));
    for (let round = 0; round < 200; round++) {
      const prefix = uniquePrefix();
      prefixes.push(prefix);
      const cfg = streamConfig(names(prefix), 'spans');
      const results = await Promise.allSettled(managers.map((jsm, i) => ensureStream(jsm, cfg, i === 0)));
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      expect((await managers[0].streams.info(cfg.name)).config.subjects).toEqual(cfg.subjects);
    }
  });
});
