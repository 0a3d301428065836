import { PermanentError } from '@switchboard/agent-sdk';
import { makeContext, makeTask } from './agent-context.fixture';
import { SleepAgent } from './sleep.agent';

describe('SleepAgent', () => {
  const agent = new SleepAgent();
  const sleep = (input: unknown, signal = new AbortController().signal) => agent.handle(makeTask('sleep', input), makeContext({ signal }));

  it('waits the given time and reports it', async () => {
    const started = performance.now();
    await expect(sleep({ ms: 20 })).resolves.toEqual({ slept: 20 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('accepts 0', async () => {
    await expect(sleep({ ms: 0 })).resolves.toEqual({ slept: 0 });
  });

  it('rejects promptly with the abort reason and clears its timer', async () => {
    const clear = jest.spyOn(global, 'clearTimeout');
    try {
      const controller = new AbortController();
      const started = performance.now();
      const pending = sleep({ ms: 60_000 }, controller.signal);
      setTimeout(() => controller.abort('cancelled'), 5);
      await expect(pending).rejects.toBe('cancelled');
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(clear).toHaveBeenCalled();
    } finally {
      clear.mockRestore();
    }
  });

  it('rejects with an AbortError when aborted without a reason', async () => {
    const controller = new AbortController();
    const pending = sleep({ ms: 60_000 }, controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('rejects at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('shutdown'));
    await expect(sleep({ ms: 60_000 }, controller.signal)).rejects.toThrow('shutdown');
  });

  it.each([[{ ms: -1 }], [{ ms: 600_001 }], [{ ms: '20' }], [{}], [null], ['20'], [{ ms: Number.NaN }]])('refuses bad input %j as non-retryable', async (input) => {
    const err = await sleep(input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ code: 'AGENT.BAD_INPUT' });
  });
});
