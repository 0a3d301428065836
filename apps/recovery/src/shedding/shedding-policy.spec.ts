import { ShedDecider, type ShedPolicy } from './shedding-policy';

const policy: ShedPolicy = { lowDeficit: 10, normalDeficit: 50, backlogLimit: 1_000, clearRatio: 0.5, clearHoldMs: 3_000, retryAfterS: 5, stateTtlMs: 10_000 };
const reading = (pending: number, free: number, high = 0) => ({ capability: 'llm', freeCapacity: free, agentsUp: 2, pendingByPriority: { high, normal: pending, low: 0 } });

describe('ShedDecider', () => {
  let t: number;
  beforeEach(() => (t = 1_000_000));

  it('sheds nothing while free capacity covers the queue', () => {
    const d = new ShedDecider(policy);
    const { state, changed } = d.decide(reading(40, 35), t);
    expect(changed).toBe(false);
    expect(state).toMatchObject({ level: 'none', shedding: [], reason: null, pending: 40, freeCapacity: 35 });
  });

  it('sheds low, then normal, as the deficit grows; high always flows', () => {
    const d = new ShedDecider(policy);
    const low = d.decide(reading(12, 2), t);
    expect(low).toMatchObject({ changed: true, state: { level: 'low', shedding: ['low'], reason: 'deficit' } });
    const normal = d.decide(reading(60, 0), (t += 1_000));
    expect(normal).toMatchObject({ changed: true, state: { level: 'normal', shedding: ['low', 'normal'], reason: 'deficit' } });
    expect(normal.state.shedding).not.toContain('high');
  });

  it('a backlog past the limit sheds normal even with free capacity', () => {
    const d = new ShedDecider(policy);
    expect(d.decide(reading(1_000, 5_000), t).state).toMatchObject({ level: 'normal', reason: 'backlog' });
  });

  it('clears only after the reading stays under threshold × clearRatio for the hold time', () => {
    const d = new ShedDecider(policy);
    d.decide(reading(20, 0), t); // low (deficit 20)
    // Just under the entry threshold but above the clear threshold (5): holds.
    for (let i = 0; i < 10; i++) expect(d.decide(reading(7, 0), (t += 1_000)).state.level).toBe('low');
    // Below the clear threshold: still low until the hold time passes.
    expect(d.decide(reading(3, 0), (t += 1_000)).state.level).toBe('low');
    expect(d.decide(reading(3, 0), (t += 2_999)).state.level).toBe('low');
    const cleared = d.decide(reading(3, 0), (t += 1));
    expect(cleared).toMatchObject({ changed: true, state: { level: 'none', shedding: [], reason: null } });
  });

  it('a relapse during the hold restarts it', () => {
    const d = new ShedDecider(policy);
    d.decide(reading(20, 0), t);
    d.decide(reading(0, 10), (t += 1_000));
    d.decide(reading(8, 0), (t += 2_000)); // back above the clear threshold
    expect(d.decide(reading(0, 10), (t += 2_000)).state.level).toBe('low');
    expect(d.decide(reading(0, 10), (t += 3_000)).state.level).toBe('none');
  });

  it('steps down from normal to low before none', () => {
    const d = new ShedDecider(policy);
    d.decide(reading(100, 0), t);
    expect(d.decide(reading(10, 0), (t += 1_000)).state.level).toBe('normal');
    expect(d.decide(reading(10, 0), (t += 3_000)).state.level).toBe('low');
    expect(d.decide(reading(0, 0), (t += 1_000)).state.level).toBe('low');
    expect(d.decide(reading(0, 0), (t += 3_000)).state.level).toBe('none');
  });

  it('states carry an expiry so gateways fail open when the leader stops refreshing', () => {
    const d = new ShedDecider(policy);
    const { state } = d.decide(reading(20, 0), t, 4);
    expect(Date.parse(state.expiresAt) - t).toBe(10_000);
    expect(state).toMatchObject({ epoch: 4, retryAfterS: 5 });
  });
});
