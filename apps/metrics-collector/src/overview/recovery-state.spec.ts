import type { BreakerState, ShedState } from '@sb/contracts';
import { mergeDegraded, RecoveryStateView } from './recovery-state';

const shed = (over: Partial<ShedState> = {}): ShedState =>
  ({
    capability: 'echo',
    level: 'low',
    shedding: ['low'],
    reason: 'deficit',
    freeCapacity: 0,
    pending: 420,
    pendingByPriority: { high: 0, normal: 20, low: 400 },
    agentsUp: 1,
    since: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-01T00:00:10.000Z',
    retryAfterS: 5,
    epoch: 1,
    ...over,
  }) as ShedState;
const breaker = (over: Partial<BreakerState> = {}): BreakerState =>
  ({ scope: 'capability', key: 'flaky', capability: 'flaky', agentId: null, state: 'open', since: '', retryAt: null, reason: 'all_agents_open', failures: 5, ...over }) as BreakerState;

describe('RecoveryStateView', () => {
  it('lists shedding until it clears or expires, and open capability breakers until they close', () => {
    let now = Date.parse('2026-01-01T00:00:05.000Z');
    const v = new RecoveryStateView({ now: () => now });
    v.applyShed(shed());
    v.applyBreaker(breaker());
    v.applyBreaker(breaker({ scope: 'agent', key: 'w1.echo', capability: 'echo', agentId: 'w1' })); // per-agent: not a capability problem
    expect(v.degraded()).toEqual([
      { capability: 'echo', reasons: ['shedding low priority (deficit: 420 waiting, 0 free slots)'] },
      { capability: 'flaky', reasons: ['circuit breaker open (all agents open)'] },
    ]);
    v.applyBreaker(breaker({ state: 'closed' }));
    expect(v.degraded().map((d) => d.capability)).toEqual(['echo']);
    now = Date.parse('2026-01-01T00:00:11.000Z'); // the leader stopped refreshing it
    expect(v.degraded()).toEqual([]);
    v.applyShed(shed({ expiresAt: '2026-01-01T00:01:00.000Z' }));
    v.applyShed(shed({ level: 'none', shedding: [] }));
    expect(v.degraded()).toEqual([]);
  });

  it('merges with the collector’s own findings, one entry per capability', () => {
    expect(mergeDegraded([{ capability: 'b', reasons: ['x'] }, { capability: 'a', reasons: ['y'] }], [{ capability: 'b', reasons: ['z'] }])).toEqual([
      { capability: 'a', reasons: ['y'] },
      { capability: 'b', reasons: ['x', 'z'] },
    ]);
  });
});
