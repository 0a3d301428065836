/**
 * Limits on what agents may make the collector keep (issue 12, #13), as the collector decides
 * them (driven clock, memory stores): agents in the fleet, agents per agent key, bytes per
 * registration; down agents make room before anyone is refused; and what an agent keeps in
 * memory does not grow with time.
 */
import { AgentLimitError, PayloadTooLargeError } from '@sb/contracts';
import { AGENT_KEY_B, setup } from '../collector.fixture';
import { MAX_TRANSITIONS } from './agent-directory';

const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('agent limits', () => {
  it('refuses a new agent beyond the fleet limit while every agent is up (429, retryable, a security event), and stores nothing for it', async () => {
    const s = setup({ settings: { agentLimits: { maxAgents: 3 } } });
    for (const id of ['a1', 'a2', 'a3']) await s.register(id);
    const e = await refusal(s.register('a4'));
    expect(e).toBeInstanceOf(AgentLimitError);
    expect(e).toMatchObject({ code: 'AGENT.LIMIT_REACHED', status: 429, retryable: true, retryAfter: 30 });
    expect(s.records.map((r) => r.registration.agentId)).toEqual(['a1', 'a2', 'a3']);
    expect(s.liveness.live.has('a4')).toBe(false);
    expect(s.collector.directory.get('a4')).toBeUndefined();
    expect(s.security.at(-1)).toMatchObject({ type: 'agent_refused', agentId: 'a4', keyId: 'key_agent', reason: expect.stringContaining("fleet's limit (3)") });
    // An agent already counted registers again (a reconnect) at the limit.
    expect((await s.register('a2')).registered).toBe(true);
  });

  it('makes room by forgetting the agent down the longest, everywhere, before refusing anyone', async () => {
    const s = setup({ settings: { agentLimits: { maxAgents: 3 } } });
    await s.register('old');
    await s.advance(3_000); // `old` never beat: down
    await s.register('a2');
    await s.register('a3');
    await s.advance(300);
    expect((await s.register('a4')).registered).toBe(true);
    expect(s.collector.directory.get('old')).toBeUndefined();
    expect(s.registry.current.has('old')).toBe(false);
    expect(s.liveness.live.has('old') || s.liveness.state.has('old')).toBe(false);
    expect(s.collector.directory.size).toBe(3);
  });

  it("counts each agent key's agents: a full key is refused, another key still registers", async () => {
    const s = setup({ settings: { agentLimits: { maxAgentsPerKey: 2, maxAgents: 100 } } });
    await s.register('p1');
    await s.register('p2');
    expect(await refusal(s.register('p3'))).toMatchObject({ code: 'AGENT.LIMIT_REACHED' });
    expect(s.security.at(-1)).toMatchObject({ agentId: 'p3', reason: expect.stringContaining("agent key's limit (2)") });
    expect((await s.register('q1', {}, { authorization: `Bearer ${AGENT_KEY_B}` })).registered).toBe(true);
    // The key is recorded with the registration, so another replica (or this one, restarted) counts the same.
    expect(s.records.find((r) => r.registration.agentId === 'q1')?.keyId).toBe('key_agent_b');
    expect(s.collector.directory.countForKey('key_agent')).toBe(2);
    expect(s.collector.directory.countForKey('key_agent_b')).toBe(1);
  });

  it('refuses a registration larger than the limit (413) before it is stored', async () => {
    const s = setup({ settings: { agentLimits: { maxRegistrationBytes: 1024 } } });
    const labels = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`l${i}`, 'x'.repeat(200)]));
    expect(await refusal(s.register('big', { labels }))).toBeInstanceOf(PayloadTooLargeError);
    expect(s.records).toEqual([]);
    expect(s.security.at(-1)).toMatchObject({ agentId: 'big', reason: 'registration too large' });
  });

  it('keeps a bounded history of an agent that flaps without end', async () => {
    const s = setup();
    await s.register('flappy');
    for (let i = 0; i < 200; i++) s.collector.applyLiveness({ agentId: 'flappy', state: i % 2 ? 'up' : 'down' });
    expect(s.collector.directory.get('flappy')!.transitions.length).toBe(MAX_TRANSITIONS);
  });
});
