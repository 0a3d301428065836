/**
 * Agents that left or died are forgotten after their retention (COLLECTOR_LEFT_RETENTION_MS,
 * COLLECTOR_FORGET_AFTER_MS): gone from the agent list and from the registry, while live agents
 * stay. The clocks run from when the agent left or went down as the registry recorded it, so a
 * collector that restarted meanwhile forgets them on time instead of starting over.
 */
import { beat, MemoryLiveness, MemoryRegistry, setup } from '../collector.fixture';

const LEFT_MS = 60_000;
const DOWN_MS = 600_000;
const settings = { leftRetentionMs: LEFT_MS, forgetAfterMs: DOWN_MS };

type Setup = ReturnType<typeof setup>;
const listed = (s: Setup) => s.collector.overview.agents().map((a) => `${a.agentId}:${a.status}`);
const stored = (s: Setup) => [...s.registry.current.keys()].sort();

/** Advance the clock in 1 s steps, `live` beating each step, then run housekeeping. */
async function live(s: Setup, ms: number, agentId = 'live'): Promise<void> {
  for (let t = 0; t < ms; t += 1_000) {
    s.beatAs(agentId, beat(agentId, Math.floor((s.now() + t) / 1_000)));
    await s.advance(1_000, 500);
  }
  await s.collector.gone.idle();
  await s.collector.housekeeping();
}

/** A second collector on the same registry and Redis, booted as CollectorJobs boots one: the snapshot, then restore. */
async function restart(registry: MemoryRegistry, liveness: MemoryLiveness, at: number): Promise<Setup> {
  const s = setup({ registry, liveness, start: at, settings });
  for (const { record } of registry.current.values()) if (record) s.collector.applyRecord(record);
  await s.collector.restore();
  return s;
}

describe('agent retention', () => {
  it('forgets a departed agent after the left retention and a dead one after the down retention; live agents stay', async () => {
    const s = setup({ settings });
    await s.advance(100);
    for (const id of ['live', 'departed', 'dead']) await s.register(id);
    await s.collector.registration.deregister({ agentId: 'departed', reason: 'shutdown' });
    await live(s, 5_000);
    expect(listed(s)).toEqual(['dead:down', 'departed:left', 'live:up']);

    await live(s, LEFT_MS);
    expect(listed(s)).toEqual(['dead:down', 'live:up']);
    expect(stored(s)).toEqual(['dead', 'live']);

    await live(s, DOWN_MS - LEFT_MS);
    expect(listed(s)).toEqual(['live:up']);
    expect(stored(s)).toEqual(['live']);
    expect(s.liveness.state.has('dead')).toBe(false);
  });

  it('a restarted collector counts from when the agent left or went down, not from its own start', async () => {
    const first = setup({ settings });
    await first.advance(100);
    await first.register('departed');
    await first.register('dead');
    await first.collector.registration.deregister({ agentId: 'departed', reason: 'shutdown' });
    await first.advance(3_000);
    await first.collector.gone.idle();
    expect(listed(first)).toEqual(['dead:down', 'departed:left']);
    const wentDown = first.registry.current.get('dead')!.record!.goneAt!;
    expect(wentDown).toBeGreaterThan(0);

    // Restarted just after the departed agent's retention ended: it is forgotten at once, the dead one is not yet.
    const second = await restart(first.registry, first.liveness, first.now() + LEFT_MS);
    expect(listed(second)).toEqual(['dead:down', 'departed:left']);
    await second.collector.housekeeping();
    expect(listed(second)).toEqual(['dead:down']);

    // And again just after the dead one's retention.
    const third = await restart(second.registry, second.liveness, wentDown + DOWN_MS + 1);
    await third.collector.housekeeping();
    expect(listed(third)).toEqual([]);
    expect(stored(third)).toEqual([]);
  });

  it('a registration racing the note of when the agent went down registers (the note is not another registration)', async () => {
    const s = setup({ settings });
    await s.advance(100);
    await s.register('a1');
    await s.advance(3_000);
    await s.collector.gone.idle();
    // The registration reads the record; before it writes, the down note lands on it (a new revision).
    s.registry.beforeNextRead = async () => {
      const cur = s.registry.current.get('a1')!;
      await s.registry.putIf({ ...cur.record!, goneAt: s.now() }, cur.revision);
    };
    const again = await s.register('a1', {}, { session: undefined });
    expect(again.registered).toBe(true);
    expect(s.security).toEqual([]);
    expect(listed(s)).toEqual(['a1:up']);
  });

  it('an agent registered again after it went down is not marked gone by the late write', async () => {
    const s = setup({ settings });
    await s.advance(100);
    await s.register('a1');
    await s.advance(3_000);
    await s.collector.gone.idle();
    expect(s.registry.current.get('a1')!.record!.goneAt).toBeDefined();
    await s.register('a1');
    expect(s.registry.current.get('a1')!.record!.goneAt).toBeUndefined();
    await live(s, DOWN_MS + 1_000, 'a1');
    expect(listed(s)).toEqual(['a1:up']);
  });
});
