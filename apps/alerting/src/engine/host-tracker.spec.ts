import { HostTracker } from './host-tracker';

const ev = (agentId: string, state: 'up' | 'down' | 'left', host = 'h1') => ({ agentId, state, reason: '', at: '', lastHeartbeatAt: null, host, capabilities: [], labels: {} });

describe('HostTracker', () => {
  it('reports a host down only when all of at least minAgents known agents are down', () => {
    const t = new HostTracker(2);
    t.apply(ev('a', 'up'));
    expect(t.apply(ev('a', 'down'))).toEqual({ host: 'h1', down: false }); // one agent is not enough
    t.apply(ev('b', 'up'));
    expect(t.apply(ev('b', 'down'))).toEqual({ host: 'h1', down: true });
    expect(t.apply(ev('a', 'up'))).toEqual({ host: 'h1', down: false });
    t.apply(ev('a', 'left')); // a graceful leave forgets the agent
    t.apply(ev('c', 'down'));
    expect(t.apply(ev('b', 'down'))).toEqual({ host: 'h1', down: true });
  });
  it('ignores unknown hosts and can be disabled', () => {
    expect(new HostTracker(2).apply(ev('a', 'down', 'unknown'))).toBeNull();
    expect(new HostTracker(0).apply(ev('a', 'down'))).toBeNull();
  });
});
