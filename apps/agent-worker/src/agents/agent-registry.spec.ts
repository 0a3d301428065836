import type { QueuedTask } from '@sb/contracts';
import type { Agent } from './agent';
import { makeTask } from './agent-context.fixture';
import { AgentRegistry } from './agent-registry';

function fakeAgent(name: string, capabilities: string[], canHandle?: (t: QueuedTask) => boolean): Agent {
  return { name, capabilities, canHandle, handle: async () => name };
}

describe('AgentRegistry', () => {
  it('routes a task to the first agent with its capability', () => {
    const registry = new AgentRegistry().register(fakeAgent('a', ['x'])).register(fakeAgent('b', ['x', 'y']));
    expect(registry.route(makeTask('x', null))?.name).toBe('a');
    expect(registry.route(makeTask('y', null))?.name).toBe('b');
    expect(registry.route(makeTask('z', null))).toBeUndefined();
  });

  it('skips agents whose canHandle refuses the task', () => {
    const onlyStrings = fakeAgent('strings', ['x'], (t) => typeof t.input === 'string');
    const registry = new AgentRegistry().register(onlyStrings).register(fakeAgent('anything', ['x']));
    expect(registry.route(makeTask('x', 'text'))?.name).toBe('strings');
    expect(registry.route(makeTask('x', { n: 1 }))?.name).toBe('anything');
    expect(new AgentRegistry().register(onlyStrings).route(makeTask('x', 1))).toBeUndefined();
  });

  it('lists capabilities sorted and without duplicates', () => {
    const registry = new AgentRegistry().register(fakeAgent('a', ['zeta', 'alpha'])).register(fakeAgent('b', ['alpha', 'mid']));
    expect(registry.capabilities()).toEqual(['alpha', 'mid', 'zeta']);
    expect(new AgentRegistry().capabilities()).toEqual([]);
  });

  it('refuses two agents with the same name', () => {
    const registry = new AgentRegistry().register(fakeAgent('a', ['x']));
    expect(() => registry.register(fakeAgent('a', ['y']))).toThrow('"a" is already registered');
  });

  describe('fromConfig', () => {
    it('builds the always-available agents', async () => {
      const registry = AgentRegistry.fromConfig(['echo', 'code-analysis'], { testAgents: false });
      expect(registry.capabilities()).toEqual(['code-analysis', 'echo']);
      expect(registry.names()).toEqual(['echo', 'code-analysis']);
      const echo = registry.route(makeTask('echo', 1));
      await expect(echo?.handle(makeTask('echo', 1), undefined as never)).resolves.toEqual({ echo: 1 });
    });

    it('loads test agents only when enabled, naming the refused one', () => {
      expect(() => AgentRegistry.fromConfig(['echo', 'sleep'], { testAgents: false })).toThrow(/"sleep" is a test agent/);
      expect(() => AgentRegistry.fromConfig(['flaky'], { testAgents: false })).toThrow(/"flaky"/);
      const registry = AgentRegistry.fromConfig(['sleep', 'flaky', 'echo'], { testAgents: true });
      expect(registry.capabilities()).toEqual(['echo', 'flaky', 'sleep']);
    });

    it('throws on an unknown name, naming it and the known ones', () => {
      expect(() => AgentRegistry.fromConfig(['echo', 'translate'], { testAgents: true })).toThrow(/Unknown agent "translate"; known agents: code-analysis, echo, flaky, sleep/);
      expect(() => AgentRegistry.fromConfig(['constructor'], { testAgents: true })).toThrow(/Unknown agent "constructor"/);
    });

    it('registers a name listed twice once', () => {
      expect(AgentRegistry.fromConfig(['echo', 'echo'], { testAgents: false }).names()).toEqual(['echo']);
    });
  });
});
