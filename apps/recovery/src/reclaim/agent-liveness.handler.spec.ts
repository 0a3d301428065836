import type { AgentLivenessEvent } from '@sb/contracts';
import { AgentLivenessHandler, type LivenessPorts } from './agent-liveness.handler';
import type { ReclaimOutcome } from './reclaim.handler';

const down = (agentId: string): AgentLivenessEvent => ({
  agentId, state: 'down', reason: 'missed_heartbeats', at: '2026-01-01T00:00:00.000Z', lastHeartbeatAt: null, host: 'h', capabilities: ['echo'], labels: {},
});
const done: ReclaimOutcome = { outcome: 'done', incidentId: 'inc_1', found: ['t1', 't2'], requeued: ['t2'] };

function setup(opts: { restart?: boolean; reclaimFails?: Error; restartFails?: Error } = {}) {
  let now = 1_000;
  const reclaim = {
    onDown: jest.fn(async (): Promise<ReclaimOutcome> => {
      if (opts.reclaimFails) throw opts.reclaimFails;
      return done;
    }),
    onUp: jest.fn(async () => undefined),
    resume: jest.fn(async (evs: AgentLivenessEvent[]) => evs.map(() => done)),
  };
  const restart = {
    onDown: jest.fn(async () => {
      if (opts.restartFails) throw opts.restartFails;
      return 'restarted' as const;
    }),
  };
  const log = { info: jest.fn() };
  const ports: LivenessPorts = { reclaim, restart: opts.restart === false ? undefined : restart, memoryMs: 30_000, now: () => now, log };
  return { h: new AgentLivenessHandler(ports), reclaim, restart, log, advance: (ms: number) => (now += ms) };
}

describe('AgentLivenessHandler', () => {
  it('reclaims a down agent and restarts it, and logs a finished reclaim', async () => {
    const { h, reclaim, restart, log } = setup();
    await h.onDown(down('a1'));
    expect(reclaim.onDown).toHaveBeenCalledWith(down('a1'));
    expect(restart.onDown).toHaveBeenCalledWith(down('a1'));
    expect(log.info).toHaveBeenCalledWith(expect.objectContaining({ agentId: 'a1', incidentId: 'inc_1', found: 2, requeued: 1 }), "reclaimed a down agent's tasks");
  });

  it('works without a runtime adapter (no restart)', async () => {
    const { h, reclaim } = setup({ restart: false });
    await h.onDown(down('a1'));
    await h.takeOver();
    expect(reclaim.onDown).toHaveBeenCalledTimes(1);
    expect(reclaim.resume).toHaveBeenCalledWith([down('a1')]);
  });

  it('lets both actions finish, then reports a failure (several at once)', async () => {
    const one = setup({ reclaimFails: new Error('kv down') });
    await expect(one.h.onDown(down('a1'))).rejects.toThrow('kv down');
    expect(one.restart.onDown).toHaveBeenCalled();
    const both = setup({ reclaimFails: new Error('kv down'), restartFails: new Error('api down') });
    const err = await both.h.onDown(down('a1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AggregateError);
    expect((err as AggregateError).errors.map((e: Error) => e.message)).toEqual(['kv down', 'api down']);
  });

  it('ignores a body that is not a liveness event', async () => {
    const { h, reclaim, restart } = setup();
    for (const body of [undefined, null, {}, { agentId: 5 }] as unknown as AgentLivenessEvent[]) {
      await h.onDown(body);
      await h.onUp(body);
    }
    expect(reclaim.onDown).not.toHaveBeenCalled();
    expect(reclaim.onUp).not.toHaveBeenCalled();
    expect(restart.onDown).not.toHaveBeenCalled();
    await h.takeOver();
    expect(reclaim.resume).toHaveBeenCalledWith([]);
  });

  it('on taking over, replays the down events heard within its memory to reclaim and restart', async () => {
    const { h, reclaim, restart, log, advance } = setup();
    await h.onDown(down('old'));
    advance(20_000);
    await h.onDown(down('a12'));
    advance(15_000); // 'old' is now 35 s old: forgotten
    restart.onDown.mockClear();
    await h.takeOver();
    expect(reclaim.resume).toHaveBeenCalledWith([down('a12')]);
    expect(restart.onDown.mock.calls).toEqual([[down('a12')]]);
    expect(log.info).toHaveBeenCalledWith({ resumed: 1 }, 'new leader finished reclaims its predecessor left');
  });

  it('ends the incident when the agent is up again or left', async () => {
    const { h, reclaim } = setup();
    await h.onUp({ ...down('a1'), state: 'left' });
    expect(reclaim.onUp).toHaveBeenCalledWith({ ...down('a1'), state: 'left' });
  });
});
