import { PermanentError, RetryableError } from '@switchboard/agent-sdk';
import { makeContext, makeTask } from './agent-context.fixture';
import { FlakyAgent } from './flaky.agent';

describe('FlakyAgent', () => {
  const agent = new FlakyAgent();
  const deliver = (input: unknown, deliveryCount: number) => agent.handle(makeTask('flaky', input), makeContext({ deliveryCount }));

  it('fails retryably on the first failTimes deliveries, then succeeds', async () => {
    const input = { failTimes: 2, result: { answer: 42 } };
    for (const n of [1, 2]) {
      const err = await deliver(input, n).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RetryableError);
      expect(err).toMatchObject({ code: 'AGENT.FLAKY' });
    }
    await expect(deliver(input, 3)).resolves.toEqual({ ok: true, attempts: 3, result: { answer: 42 } });
    await expect(deliver(input, 4)).resolves.toMatchObject({ ok: true, attempts: 4 });
  });

  it('succeeds on the first delivery when failTimes is 0, with a null result by default', async () => {
    await expect(deliver({ failTimes: 0 }, 1)).resolves.toEqual({ ok: true, attempts: 1, result: null });
  });

  it('fails permanently on every delivery when asked to', async () => {
    for (const n of [1, 5]) {
      const err = await deliver({ fail: 'permanent' }, n).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PermanentError);
      expect(err).toMatchObject({ code: 'AGENT.FLAKY_PERMANENT' });
    }
  });

  it.each([[{}], [{ failTimes: -1 }], [{ failTimes: 1.5 }], [{ fail: 'sometimes' }], ['2'], [null]])('refuses bad input %j', async (input) => {
    const err = await deliver(input, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ code: 'AGENT.BAD_INPUT' });
  });
});
