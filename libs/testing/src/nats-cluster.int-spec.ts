// Proves the cluster starter: three real nats-servers with routes, an R3 stream that keeps
// taking writes while its leader is SIGKILLed, and the killed node back on its own store,
// caught up. An R1 stream on the killed node is the contrast: unavailable until it returns.
import { join } from 'node:path';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { createNatsSecurity, platformAdminCreds, serverAuthConfig } from '@sb/messaging';
import { type NatsCluster, startNatsCluster } from './nats-cluster';

jest.setTimeout(120_000);

describe('startNatsCluster', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  beforeAll(async () => {
    cluster = await startNatsCluster();
    nc = await connect({ servers: [...cluster.urls], maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  });
  afterAll(async () => {
    await nc?.close();
    await cluster?.stop();
  });

  /** Retries `op` until it succeeds: right after a kill or a restart, the JetStream API may not answer for a moment. */
  async function retried<T>(op: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await op();
      } catch (e) {
        if (Date.now() > deadline) throw e;
      }
    }
  }

  /** Publishes until one is acknowledged (a JetStream publish fails while the stream has no leader). */
  async function publishEventually(subject: string, data: string, timeoutMs = 30_000): Promise<number> {
    const js = jetstream(nc, { timeout: 2_000 });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return (await js.publish(subject, data)).seq;
      } catch (e) {
        if (Date.now() > deadline) throw e;
      }
    }
  }

  it('runs three routed nodes with JetStream, each with its own store dir', async () => {
    expect(cluster.nodes.map((n) => n.name)).toEqual(['n1', 'n2', 'n3']);
    expect(new Set(cluster.nodes.map((n) => n.storeDir)).size).toBe(3);
    expect(cluster.url.split(',')).toHaveLength(3);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'CL_R3', subjects: ['cl.r3.>'], storage: StorageType.File, num_replicas: 3 });
    const info = await jsm.streams.info('CL_R3');
    expect(info.cluster?.replicas).toHaveLength(2);
    expect(cluster.nodes.map((n) => n.name)).toContain(await cluster.streamLeader(nc, 'CL_R3'));
  });

  it('an R3 stream survives its leader being killed, and the node comes back caught up', async () => {
    const jsm = await jetstreamManager(nc);
    for (let i = 0; i < 20; i++) await publishEventually('cl.r3.a', `before-${i}`);
    const leader = (await cluster.streamLeader(nc, 'CL_R3'))!;
    await cluster.kill(leader);
    expect(cluster.node(leader).running).toBe(false);
    // Writes go on with the other two nodes (after a new leader is elected).
    for (let i = 0; i < 20; i++) await publishEventually('cl.r3.a', `during-${i}`);
    const newLeader = await cluster.streamLeader(nc, 'CL_R3');
    expect(newLeader).toBeDefined();
    expect(newLeader).not.toBe(leader);
    await cluster.restart(leader);
    expect(cluster.node(leader).running).toBe(true);
    const info = await retried(() => jsm.streams.info('CL_R3'));
    expect(info.state.messages).toBe(40);
    // restart() waited for it to catch up: it is a current replica again, by the leader's view.
    expect((await cluster.lagging(leader)).streams).toEqual([]);
    const back = [...(info.cluster?.replicas ?? []), { name: info.cluster?.leader, current: true }].find((r) => r.name === leader);
    expect(back?.current).toBe(true);
  });

  it('an R1 stream on a killed node is unavailable until the node is back (the contrast)', async () => {
    const jsm = await jetstreamManager(nc);
    await retried(() => jsm.streams.add({ name: 'CL_R1', subjects: ['cl.r1.>'], storage: StorageType.File, num_replicas: 1 }));
    await publishEventually('cl.r1.a', 'one');
    const home = (await cluster.streamLeader(nc, 'CL_R1'))!;
    await cluster.kill(home);
    await expect(jetstream(nc, { timeout: 1_000 }).publish('cl.r1.a', 'two')).rejects.toThrow();
    await cluster.restart(home);
    await publishEventually('cl.r1.a', 'three');
    expect((await retried(() => jsm.streams.info('CL_R1'))).state.messages).toBe(2);
  });
});

describe('startNatsCluster in operator mode (the deployment\'s auth, as secure-nats.ts)', () => {
  it('every node trusts the same operator: a platform user works R3 through any node, a user without credentials is refused', async () => {
    const security = createNatsSecurity();
    const admin = credsAuthenticator(new TextEncoder().encode((await platformAdminCreds(security, 'cluster-spec')).creds));
    const cluster = await startNatsCluster({
      extraConfig: (node) => serverAuthConfig(security, join(node.dir, 'jwt')),
      probeConnectOptions: { authenticator: admin },
    });
    try {
      const nc = await connect({ servers: [...cluster.urls], authenticator: admin });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'CL_SECURE', subjects: ['cl.secure.>'], storage: StorageType.File, num_replicas: 3 });
      expect((await jetstream(nc).publish('cl.secure.a', 'x')).stream).toBe('CL_SECURE');
      expect((await jsm.streams.info('CL_SECURE')).cluster?.replicas).toHaveLength(2);
      await nc.close();
      // Each node on its own: the same user, and no one without credentials.
      for (const url of cluster.urls) {
        const one = await connect({ servers: url, authenticator: admin });
        expect((await (await jetstreamManager(one)).streams.info('CL_SECURE')).state.messages).toBe(1);
        await one.close();
        await expect(connect({ servers: url, reconnect: false })).rejects.toThrow(/authorization/i);
      }
    } finally {
      await cluster.stop();
    }
  });
});
