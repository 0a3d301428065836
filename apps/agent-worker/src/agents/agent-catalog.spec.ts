import { AgentRouter } from '@switchboard/agent-sdk';
import { makeContext, makeTask } from './agent-context.fixture';
import { agentsFromConfig } from './agent-catalog';

describe('agentsFromConfig', () => {
  it('builds the always-available agents, in the order named', async () => {
    const agents = agentsFromConfig(['echo', 'code-analysis'], { testAgents: false });
    expect(agents.map((a) => a.name)).toEqual(['echo', 'code-analysis']);
    const router = new AgentRouter(agents);
    expect(router.capabilities).toEqual(['echo', 'code-analysis']);
    const route = router.route(makeTask('echo', 1));
    await expect(route.agent?.handle(makeTask('echo', 1), makeContext())).resolves.toEqual({ echo: 1 });
  });

  it('loads test agents only when enabled, naming the refused one', () => {
    expect(() => agentsFromConfig(['echo', 'sleep'], { testAgents: false })).toThrow(/"sleep" is a test agent/);
    expect(() => agentsFromConfig(['flaky'], { testAgents: false })).toThrow(/"flaky"/);
    expect(agentsFromConfig(['sleep', 'flaky', 'echo'], { testAgents: true }).map((a) => a.name)).toEqual(['sleep', 'flaky', 'echo']);
  });

  it('throws on an unknown name, naming it and the known ones', () => {
    expect(() => agentsFromConfig(['echo', 'translate'], { testAgents: true })).toThrow(/Unknown agent "translate"; known agents: code-analysis, echo, flaky, sleep/);
    expect(() => agentsFromConfig(['constructor'], { testAgents: true })).toThrow(/Unknown agent "constructor"/);
  });

  it('hosts a name listed twice once, and refuses an empty list', () => {
    expect(agentsFromConfig(['echo', 'echo'], { testAgents: false }).map((a) => a.name)).toEqual(['echo']);
    expect(() => agentsFromConfig([], { testAgents: false })).toThrow(/No agents configured/);
  });
});
