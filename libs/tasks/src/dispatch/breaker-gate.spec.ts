import type { BreakerState } from '@sb/contracts';
import { BreakerGate } from './breaker-gate';
import { OutcomeReporter } from './breaker-gate-outcomes';

const state = (s: BreakerState['state'], probes = 2): BreakerState => ({
  scope: 'agent', key: 'w1.llm', capability: 'llm', agentId: 'w1', state: s, since: '', retryAt: null, reason: null, failures: 0, attempts: 0, consecutive: 0, probes, epoch: 1,
});

describe('BreakerGate', () => {
  it('open: takes nothing; half-open: the probes once; closed: anything', () => {
    let woken = 0;
    const g = new BreakerGate('w1', () => woken++);
    expect(g.allow('llm', 16)).toBe(16);
    g.apply('llm', state('open'));
    expect(g.allow('llm', 16)).toBe(0);
    expect(g.blocked()).toEqual(['llm']);
    expect(g.allow('echo', 3)).toBe(3);
    g.apply('llm', state('half_open', 2));
    expect(woken).toBe(1);
    expect(g.allow('llm', 16)).toBe(2);
    g.took('llm', 1);
    expect(g.allow('llm', 16)).toBe(1);
    g.took('llm', 1);
    expect(g.allow('llm', 16)).toBe(0);
    // A repeated half-open broadcast (refresh) does not hand out more probes.
    g.apply('llm', state('half_open', 2));
    expect(g.allow('llm', 16)).toBe(0);
    g.apply('llm', state('closed'));
    expect(woken).toBe(2);
    expect(g.allow('llm', 16)).toBe(16);
    // A deleted (forgotten) breaker is closed.
    g.apply('llm', state('open'));
    g.apply('llm', undefined);
    expect(g.allow('llm', 5)).toBe(5);
  });
});

describe('OutcomeReporter', () => {
  it('tallies per capability, keeps the failures after the last success, sends nothing when idle', () => {
    const sent: unknown[] = [];
    const r = new OutcomeReporter('w1', ['llm', 'echo'], (b) => sent.push(b), 1_000, () => 42);
    expect(r.flush()).toBeUndefined();
    r.record('llm', 'agent_error');
    r.record('llm', 'ok');
    r.record('llm', 'rate_limited');
    r.record('llm', 'agent_error');
    r.record('echo', 'timeout');
    const b = r.flush()!;
    expect(b).toEqual({
      agentId: 'w1',
      sentAt: 42,
      capabilities: ['llm', 'echo'],
      tallies: [
        { capability: 'llm', ok: 1, failed: { agent_error: 2, rate_limited: 1 }, sawSuccess: true, tail: ['rate_limited', 'agent_error'] },
        { capability: 'echo', ok: 0, failed: { timeout: 1 }, sawSuccess: false, tail: ['timeout'] },
      ],
    });
    expect(sent).toEqual([b]);
    expect(r.flush()).toBeUndefined();
  });
});
