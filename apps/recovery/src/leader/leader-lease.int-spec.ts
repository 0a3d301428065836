/** The leader lease on a real JetStream KV bucket: one leader; a crashed leader is replaced within the lease. */
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { names } from '@sb/contracts';
import { cleanupJetStream, eventually, testEnv, uniquePrefix } from '@sb/testing';
import { KvLeaseStore } from './kv-lease-store';
import { LeaderLease } from './leader-lease';

jest.setTimeout(30_000);

describe('LeaderLease on JetStream KV', () => {
  const prefix = uniquePrefix();
  let nc: NatsConnection;
  const leases: LeaderLease[] = [];

  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
  });
  afterAll(async () => {
    await Promise.all(leases.map((l) => l.stop(false)));
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  it('keeps exactly one leader among three, and a new one takes over with a higher epoch when it dies (timing: see the fake-clock unit test)', async () => {
    const kv = await new Kvm(jetstream(nc)).create(names(prefix).recoveryCore.leaderBucket);
    const leaseMs = 900;
    for (const id of ['r1', 'r2', 'r3']) leases.push(new LeaderLease(new KvLeaseStore(kv), { replicaId: id, leaseMs }));
    let overlap = false;
    const check = () => {
      if (leases.filter((l) => l.isLeader()).length > 1) overlap = true;
    };
    for (const l of leases) l.onChange(check);
    const probe = setInterval(check, 10);
    for (const l of leases) l.start();
    const first = await eventually(() => leases.find((l) => l.isLeader()) ?? false, { timeoutMs: 10_000 });
    const epoch = first.epoch;
    // Several renewals (each a new revision of the lease entry) go by without a change of leader.
    const rev0 = (await kv.get('leader'))!.revision;
    await eventually(async () => ((await kv.get('leader'))!.revision >= rev0 + 3 ? true : false), { timeoutMs: 10_000, intervalMs: 20 });
    expect(first.isLeader()).toBe(true);
    expect((await kv.get('leader'))?.json()).toMatchObject({ holder: first.replicaId, epoch });
    // Crash: stop without handing the lease back.
    await first.stop(false);
    const next = await eventually(() => leases.find((l) => l !== first && l.isLeader()) ?? false, { timeoutMs: 10_000, intervalMs: 10 });
    clearInterval(probe);
    expect(next.epoch).toBe(epoch + 1);
    expect(overlap).toBe(false);
    const stored = await kv.get('leader');
    expect(stored?.json()).toMatchObject({ holder: next.replicaId, epoch: epoch + 1 });
  });
});
