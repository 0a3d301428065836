import { makeTask } from './agent-context.fixture';
import { EchoAgent } from './echo.agent';

describe('EchoAgent', () => {
  const agent = new EchoAgent();

  it('offers the echo capability', () => {
    expect(agent.name).toBe('echo');
    expect(agent.capabilities).toEqual(['echo']);
  });

  it.each([[{ a: 1, b: [true, null] }], ['text'], [42], [null]])('returns the input unchanged: %j', async (input) => {
    await expect(agent.handle(makeTask('echo', input))).resolves.toEqual({ echo: input });
  });
});
