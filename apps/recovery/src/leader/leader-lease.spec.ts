import { LeaderLease, type LeaseRecord, type LeaseStore } from './leader-lease';

/** An in-memory KV key with the same CAS semantics as JetStream KV. */
class MemoryLeaseStore implements LeaseStore {
  rev = 0;
  value: LeaseRecord | null = null;
  failing = false;
  async get() {
    if (this.failing) throw new Error('disconnected');
    return this.value ? { record: this.value, revision: this.rev } : null;
  }
  async create(r: LeaseRecord) {
    if (this.failing) throw new Error('disconnected');
    if (this.value) throw new Error('wrong last sequence');
    this.value = r;
    return ++this.rev;
  }
  async update(r: LeaseRecord, revision: number) {
    if (this.failing) throw new Error('disconnected');
    if (revision !== this.rev) throw new Error('wrong last sequence');
    this.value = r;
    return ++this.rev;
  }
}

describe('LeaderLease', () => {
  let t = 0;
  const now = () => t;
  beforeEach(() => (t = 1_000_000));

  it('elects exactly one of two replicas and bumps the epoch on takeover', async () => {
    const store = new MemoryLeaseStore();
    const a = new LeaderLease(store, { replicaId: 'a', leaseMs: 5000, now });
    const b = new LeaderLease(store, { replicaId: 'b', leaseMs: 5000, now });
    const changes: string[] = [];
    a.onChange((l) => changes.push(`a:${l}`));
    b.onChange((l) => changes.push(`b:${l}`));
    await a.tick();
    await b.tick();
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    expect(a.epoch).toBe(1);
    // a keeps renewing: b never takes over.
    for (let i = 0; i < 30; i++) {
      t += 500;
      await a.tick();
      await b.tick();
      expect(a.isLeader() && !b.isLeader()).toBe(true);
    }
    // a dies (stops ticking): b takes over once the revision stood still for leaseMs.
    let took = 0;
    for (let i = 1; i <= 20 && !b.isLeader(); i++) {
      t += 500;
      await b.tick();
      took = i * 500;
    }
    expect(b.isLeader()).toBe(true);
    expect(took).toBeLessThanOrEqual(5500);
    expect(b.epoch).toBe(2);
    // a's own view expired before b acted; its next renew fails the CAS.
    expect(a.isLeader()).toBe(false);
    await a.tick();
    expect(a.isLeader()).toBe(false);
    expect(changes).toEqual(['a:true', 'b:true', 'a:false']);
  });

  it('steps down when renewals fail and never acts on an expired lease', async () => {
    const store = new MemoryLeaseStore();
    const a = new LeaderLease(store, { replicaId: 'a', leaseMs: 3000, now });
    await a.tick();
    expect(a.isLeader()).toBe(true);
    store.failing = true;
    t += 1000;
    await a.tick();
    expect(a.isLeader()).toBe(false);
    store.failing = false;
    // Its own stale record must still wait out the lease before anyone (itself included) re-acquires.
    await a.tick();
    expect(a.isLeader()).toBe(false);
    t += 3000;
    await a.tick();
    expect(a.isLeader()).toBe(true);
    expect(a.epoch).toBe(2);
  });

  it('expires leadership by its own clock even without a tick', async () => {
    const store = new MemoryLeaseStore();
    const a = new LeaderLease(store, { replicaId: 'a', leaseMs: 1000, now });
    await a.tick();
    t += 801;
    expect(a.isLeader()).toBe(false);
  });

  it('hands the lease over at once on a graceful stop', async () => {
    const store = new MemoryLeaseStore();
    const a = new LeaderLease(store, { replicaId: 'a', leaseMs: 5000, now });
    const b = new LeaderLease(store, { replicaId: 'b', leaseMs: 5000, now });
    await a.tick();
    await b.tick();
    await a.stop();
    expect(store.value?.holder).toBeNull();
    t += 100;
    await b.tick();
    expect(b.isLeader()).toBe(true);
    expect(b.epoch).toBe(2);
  });

  it('loses leadership on a connection loss', async () => {
    const store = new MemoryLeaseStore();
    const a = new LeaderLease(store, { replicaId: 'a', leaseMs: 5000, now });
    await a.tick();
    a.connectionLost();
    expect(a.isLeader()).toBe(false);
  });
});
