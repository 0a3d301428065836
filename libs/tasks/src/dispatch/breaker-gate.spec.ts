import type { BreakerState, OutcomeBatch } from '@sb/contracts';
import { BreakerGate } from './breaker-gate';
import { AgentOutcomes, OutcomeReporter } from './breaker-gate-outcomes';

const state = (s: BreakerState['state'], probes = 2, agentId = 'w1'): BreakerState => ({
  scope: 'agent', key: `${agentId}.llm`, capability: 'llm', agentId, state: s, since: '', retryAt: null, reason: null, failures: 0, attempts: 0, consecutive: 0, probes, epoch: 1,
});

describe('BreakerGate', () => {
  it('open: takes nothing; half-open: the probes once; closed: anything', () => {
    const woken: string[] = [];
    const g = new BreakerGate((a, c) => woken.push(`${a}.${c}`));
    expect(g.allow('w1', 'llm', 16)).toBe(16);
    g.apply('w1', 'llm', state('open'));
    expect(g.allow('w1', 'llm', 16)).toBe(0);
    expect(g.blocked('w1')).toEqual(['llm']);
    expect(g.allow('w1', 'echo', 3)).toBe(3);
    g.apply('w1', 'llm', state('half_open', 2));
    expect(woken).toEqual(['w1.llm']);
    expect(g.allow('w1', 'llm', 16)).toBe(2);
    g.took('w1', 'llm', 1);
    expect(g.allow('w1', 'llm', 16)).toBe(1);
    g.took('w1', 'llm', 1);
    expect(g.allow('w1', 'llm', 16)).toBe(0);
    // A repeated half-open broadcast (refresh) does not hand out more probes.
    g.apply('w1', 'llm', state('half_open', 2));
    expect(g.allow('w1', 'llm', 16)).toBe(0);
    g.apply('w1', 'llm', state('closed'));
    expect(woken).toEqual(['w1.llm', 'w1.llm']);
    expect(g.allow('w1', 'llm', 16)).toBe(16);
    // A deleted (forgotten) breaker is closed.
    g.apply('w1', 'llm', state('open'));
    g.apply('w1', 'llm', undefined);
    expect(g.allow('w1', 'llm', 5)).toBe(5);
  });

  it('keeps each agent’s breakers apart', () => {
    const woken: string[] = [];
    const g = new BreakerGate((a) => woken.push(a));
    g.apply('a1', 'llm', state('open', 1, 'a1'));
    g.apply('a2', 'llm', state('half_open', 1, 'a2'));
    expect(g.allow('a1', 'llm', 4)).toBe(0);
    expect(g.allow('a2', 'llm', 4)).toBe(1);
    expect(g.allow('a3', 'llm', 4)).toBe(4);
    expect(woken).toEqual(['a2']);
    // A closed breaker for an agent that had none open wakes nobody.
    g.apply('a3', 'llm', state('closed', 1, 'a3'));
    expect(woken).toEqual(['a2']);
    expect(g.blocked('a1')).toEqual(['llm']);
    expect(g.blocked('a3')).toEqual([]);
  });

  it('probes set aside but not handed out go back, never beyond the period’s count', () => {
    const g = new BreakerGate();
    g.apply('w1', 'llm', state('half_open', 2));
    g.took('w1', 'llm', 2);
    g.gaveBack('w1', 'llm', 1);
    expect(g.allow('w1', 'llm', 8)).toBe(1);
    g.gaveBack('w1', 'llm', 5);
    expect(g.allow('w1', 'llm', 8)).toBe(2);
    g.apply('w1', 'llm', state('open'));
    g.gaveBack('w1', 'llm', 1);
    expect(g.allow('w1', 'llm', 8)).toBe(0);
  });

  it('one agent’s view for a single-agent puller', () => {
    const g = new BreakerGate();
    const mine = g.forAgent('w1');
    g.apply('w1', 'llm', state('half_open', 1));
    g.apply('w2', 'echo', state('open', 1, 'w2'));
    expect(mine.allow('llm', 3)).toBe(1);
    expect(mine.allow('echo', 3)).toBe(3);
    mine.took('llm', 1);
    expect(mine.blocked()).toEqual(['llm']);
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

describe('AgentOutcomes', () => {
  it('one batch per agent per flush, each with that agent’s capabilities; none while idle', () => {
    const sent: OutcomeBatch[] = [];
    const o = new AgentOutcomes((b) => sent.push(b), 1_000, 60_000, () => 7);
    expect(o.flush()).toEqual([]);
    o.record('a1', ['llm'], 'llm', 'ok');
    o.record('a2', ['llm', 'echo'], 'echo', 'worker_lost');
    o.record('a1', ['llm'], 'llm', 'timeout');
    expect(o.size).toBe(2);
    o.flush();
    expect(sent).toEqual([
      { agentId: 'a1', sentAt: 7, capabilities: ['llm'], tallies: [{ capability: 'llm', ok: 1, failed: { timeout: 1 }, sawSuccess: true, tail: ['timeout'] }] },
      { agentId: 'a2', sentAt: 7, capabilities: ['llm', 'echo'], tallies: [{ capability: 'echo', ok: 0, failed: { worker_lost: 1 }, sawSuccess: false, tail: ['worker_lost'] }] },
    ]);
    expect(o.flush()).toEqual([]);
  });

  it('drops a departed agent’s reporter once its last outcomes went out, and an idle one after a while', () => {
    let now = 0;
    const sent: OutcomeBatch[] = [];
    const o = new AgentOutcomes((b) => sent.push(b), 1_000, 10_000, () => now);
    o.record('gone', ['c'], 'c', 'worker_lost');
    o.record('idle', ['c'], 'c', 'ok');
    o.gone('gone');
    o.flush(); // the departed agent's last outcome still goes out
    expect(sent.map((b) => b.agentId)).toEqual(['gone', 'idle']);
    expect(o.size).toBe(2);
    o.flush();
    expect(o.size).toBe(1); // gone and idle: dropped
    now = 10_000;
    o.flush();
    expect(o.size).toBe(0); // idle past idleDropMs
    // An agent back after it went down gets a reporter again.
    o.record('gone', ['c'], 'c', 'ok');
    expect(o.size).toBe(1);
  });
});
