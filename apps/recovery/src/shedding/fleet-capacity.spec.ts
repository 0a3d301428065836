import { FleetCapacity } from './fleet-capacity';

const q = (n: number) => () => ({ high: 0, normal: n, low: 0 });
const hb = (agentId: string, capacity: number, inFlight: number, status: 'ready' | 'draining' = 'ready') => ({ agentId, capacity, inFlight, status });

describe('FleetCapacity', () => {
  it('sums free slots of up, ready agents hosting the capability, minus those with an open breaker', () => {
    const f = new FleetCapacity(3_000);
    const t = 1_000_000;
    f.registered({ agentId: 'a', capabilities: ['llm', 'echo'] });
    f.registered({ agentId: 'b', capabilities: ['llm'] });
    f.registered({ agentId: 'c', capabilities: ['llm'] });
    f.registered({ agentId: 'd', capabilities: ['llm'] });
    f.heartbeat(hb('a', 8, 3), t);
    f.heartbeat(hb('b', 4, 4), t);
    f.heartbeat(hb('c', 4, 0, 'draining'), t);
    f.heartbeat(hb('d', 4, 0), t - 5_000); // stale: down
    const [llm, echo] = f.readings(['llm', 'echo'], q(7), (agent) => agent === 'zzz', t);
    expect(llm).toEqual({ capability: 'llm', freeCapacity: 5, agentsUp: 2, pendingByPriority: { high: 0, normal: 7, low: 0 } });
    expect(echo.freeCapacity).toBe(5);
    const [gated] = f.readings(['llm'], q(0), (agent) => agent === 'a', t);
    expect(gated).toMatchObject({ freeCapacity: 0, agentsUp: 1 });
  });

  it('a down or left agent stops counting until it beats again', () => {
    const f = new FleetCapacity(3_000);
    f.registered({ agentId: 'a', capabilities: ['llm'] });
    f.heartbeat(hb('a', 4, 0), 10);
    f.gone('a');
    expect(f.readings(['llm'], q(0), () => false, 20)[0].freeCapacity).toBe(0);
    f.heartbeat(hb('a', 4, 1), 30);
    expect(f.readings(['llm'], q(0), () => false, 40)[0].freeCapacity).toBe(3);
  });
});
