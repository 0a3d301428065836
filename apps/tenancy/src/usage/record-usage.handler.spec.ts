/** Usage recording decides acknowledgement by outcome: recorded → returns; Redis trouble → redelivered in 2 s. */
import { SbError, type UsageTaskEvent } from '@sb/contracts';
import { createLogger } from '@sb/observability';
import { RecordUsageHandler, RETRY_DELAY_MS } from './record-usage.handler';

const event: UsageTaskEvent = { taskId: 'tk_1', tenantId: 'tn_1', capability: 'echo', at: '2026-03-04T05:06:07.000Z', tokens: 12 };

function setup(fail = false) {
  const calls: unknown[][] = [];
  const store = {
    record: async (...args: [string, string, string, number, Date]) => {
      calls.push(args);
      if (fail) throw new Error('redis down');
      return true;
    },
  };
  const warnings: Array<{ msg: string; taskId: string }> = [];
  const logger = createLogger('test', 'warn', { write: (line: string) => void warnings.push(JSON.parse(line)) });
  let now = 0;
  const handler = new RecordUsageHandler(store, logger, () => now);
  const naks: number[] = [];
  const redelivery = { nak: (ms: number) => void naks.push(ms) };
  return { handler, calls, warnings, naks, redelivery, advance: (ms: number) => (now += ms) };
}

describe('RecordUsageHandler', () => {
  it('records the task once for its tenant, capability, tokens and day, and settles nothing itself', async () => {
    const s = setup();
    await s.handler.handle(event, s.redelivery);
    await s.handler.handle({ ...event, tokens: undefined }, s.redelivery);
    expect(s.calls).toEqual([
      ['tn_1', 'tk_1', 'echo', 12, new Date(event.at)],
      ['tn_1', 'tk_1', 'echo', 0, new Date(event.at)],
    ]);
    expect(s.naks).toEqual([]);
  });

  it('when Redis fails: redelivers in 2 s, fails retryably (the transport leaves it settled), and warns at most every 10 s', async () => {
    const s = setup(true);
    const err = await s.handler.handle(event, s.redelivery).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SbError);
    expect(err).toMatchObject({ code: 'SERVICE.UNAVAILABLE', retryable: true });
    await expect(s.handler.handle(event, s.redelivery)).rejects.toThrow();
    s.advance(10_001);
    await expect(s.handler.handle(event, s.redelivery)).rejects.toThrow();
    expect(s.naks).toEqual([RETRY_DELAY_MS, RETRY_DELAY_MS, RETRY_DELAY_MS]);
    expect(RETRY_DELAY_MS).toBe(2_000);
    expect(s.warnings).toHaveLength(2);
    expect(s.warnings[0]).toMatchObject({ taskId: 'tk_1', msg: expect.stringContaining('usage not recorded yet') });
  });
});
