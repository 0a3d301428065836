import type { OutcomeBatch } from '@sb/contracts';
import { BreakerBoard, type BoardPolicy } from './breaker-board';

const policy: BoardPolicy = {
  windowMs: 10_000, minVolume: 100, errorRate: 0.5, consecutiveFailures: 3, cooldownMs: 1_000, maxCooldownMs: 4_000, probes: 1,
  counted: new Set(['agent_error', 'timeout']), staleMs: 60_000,
};

function batch(agentId: string, capability: string, ok: number, failed: Partial<Record<string, number>>, tail: string[] = []): OutcomeBatch {
  return { agentId, sentAt: 0, capabilities: [capability], tallies: [{ capability, ok, failed, sawSuccess: ok > 0, tail: tail as never }] };
}

describe('BreakerBoard', () => {
  let t: number;
  beforeEach(() => (t = 5_000_000));

  it('a capability opens only when every agent breaker for it is open', () => {
    const board = new BreakerBoard(policy, () => 7);
    board.ingest(batch('a1', 'llm', 5, {}), t);
    const first = board.ingest(batch('a2', 'llm', 0, { agent_error: 3 }, ['agent_error', 'agent_error', 'agent_error']), (t += 10));
    expect(first.map((s) => [s.scope, s.key, s.state])).toEqual([['agent', 'a2.llm', 'open']]);
    expect(first[0]).toMatchObject({ epoch: 7, reason: 'consecutive_failures', consecutive: 3 });
    expect(board.capabilityStateOf('llm')).toBe('closed');
    const second = board.ingest(batch('a1', 'llm', 0, { agent_error: 3 }, ['agent_error', 'agent_error', 'agent_error']), (t += 10));
    expect(second.map((s) => [s.scope, s.key, s.state])).toEqual([
      ['agent', 'a1.llm', 'open'],
      ['capability', 'llm', 'open'],
    ]);
    expect(second[1]).toMatchObject({ reason: 'all_agents_open', agentId: null });
    expect(Date.parse(second[1].retryAt!)).toBe(t - 10 + 1_000); // the earliest agent retry
  });

  it('rate limits and dependency errors never trip a breaker', () => {
    const board = new BreakerBoard(policy);
    const out = board.ingest(batch('a1', 'llm', 0, { rate_limited: 50, dependency: 50, cancelled: 5 }, ['rate_limited', 'dependency', 'rate_limited']), t);
    expect(out).toEqual([]);
    expect(board.stateOf('a1', 'llm')).toBe('closed');
  });

  it('timeouts count unless configured off', () => {
    const on = new BreakerBoard(policy);
    expect(on.ingest(batch('a1', 'slow', 0, { timeout: 3 }, ['timeout', 'timeout', 'timeout']), t).map((s) => s.state)).toEqual(['open', 'open']);
    const off = new BreakerBoard({ ...policy, counted: new Set(['agent_error']) });
    expect(off.ingest(batch('a1', 'slow', 0, { timeout: 3 }, ['timeout', 'timeout', 'timeout']), t)).toEqual([]);
  });

  it('cool-down, half-open probe, close: agent and capability follow', () => {
    const board = new BreakerBoard(policy);
    board.ingest(batch('a1', 'llm', 0, { agent_error: 3 }, ['agent_error', 'agent_error', 'agent_error']), t);
    expect(board.tick(t + 999)).toEqual([]);
    const half = board.tick((t += 1_000));
    expect(half.map((s) => [s.scope, s.state])).toEqual([['agent', 'half_open'], ['capability', 'half_open']]);
    const closed = board.ingest(batch('a1', 'llm', 1, {}), (t += 10));
    expect(closed.map((s) => [s.scope, s.state])).toEqual([['agent', 'closed'], ['capability', 'closed']]);
  });

  it('forgets breakers of agents that stopped reporting, which reopens the capability to new agents', () => {
    const board = new BreakerBoard({ ...policy, cooldownMs: 600_000, maxCooldownMs: 600_000 });
    board.ingest(batch('gone', 'llm', 0, { agent_error: 3 }, ['agent_error', 'agent_error', 'agent_error']), t);
    expect(board.capabilityStateOf('llm')).toBe('open');
    const out = board.tick((t += 60_001));
    expect(out.map((s) => [s.scope, s.state, s.reason])).toEqual([['agent', 'closed', 'forgotten'], ['capability', 'closed', null]]);
  });

  it('a new leader restores open breakers from the broadcast snapshot', () => {
    const a = new BreakerBoard(policy);
    a.ingest(batch('a1', 'llm', 0, { agent_error: 3 }, ['agent_error', 'agent_error', 'agent_error']), t);
    const b = new BreakerBoard(policy);
    b.restore(a.snapshot(t), t + 100);
    expect(b.stateOf('a1', 'llm')).toBe('open');
    expect(b.capabilityStateOf('llm')).toBe('open');
    expect(b.tick(t + 1_000).map((s) => s.state)).toEqual(['half_open', 'half_open']);
  });
});
