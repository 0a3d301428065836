import type { Priority, QueuedTask } from '@sb/contracts';
import type { PulledMessage } from '@sb/messaging';
import type { SlotTask } from '@sb/tasks';
import { type Parked, ParkedTasks } from './parked-tasks';
import type { PullBudget } from './task-source';

const clock = { t: 1_000_000 };
const unlimited: PullBudget = { reserve: (_c, want) => want, refund: () => undefined };

/** Tenancy as a table: free slots per tenant; every request is recorded. */
function tenancy(free: Record<string, number>) {
  const asked: string[] = [];
  const released: string[] = [];
  let hold: Promise<void> | undefined;
  return {
    asked,
    released,
    free,
    /** Hold the next answers until the returned function is called. */
    pause() {
      let go!: () => void;
      hold = new Promise<void>((r) => (go = r));
      return () => {
        hold = undefined;
        go();
      };
    },
    slots: {
      tryAcquire: async (t: SlotTask) => {
        asked.push(t.taskId);
        if (hold) await hold;
        if ((free[t.tenantId] ?? 0) > 0) {
          free[t.tenantId]--;
          return { granted: true, retryAfterMs: 50 };
        }
        return { granted: false, retryAfterMs: 200 };
      },
      release: async (t: SlotTask) => {
        released.push(t.taskId);
      },
    },
  };
}

function parked(taskId: string, tenantId: string, o: { capability?: string; priority?: Priority; deadlineInMs?: number } = {}): Parked {
  const task = {
    taskId,
    tenantId,
    capability: o.capability ?? 'llm',
    priority: o.priority ?? 'normal',
    input: null,
    metadata: {},
    timeoutMs: 60_000,
    deadlineAt: new Date(clock.t + (o.deadlineInMs ?? 60_000)).toISOString(),
    createdAt: new Date(clock.t).toISOString(),
  } as QueuedTask;
  const msg = { working: jest.fn(), nak: jest.fn() } as unknown as PulledMessage;
  return { task, msg, pulledBy: 'a1', keptAliveAt: clock.t };
}

function lot(free: Record<string, number>) {
  const t = tenancy(free);
  const woken: string[] = [];
  const p = new ParkedTasks({ slots: t.slots, wake: (c) => woken.push(c), keepAliveMs: 1_000, now: () => clock.t });
  return { t, woken, p };
}

const ids = (ps: Parked[]) => ps.map((p) => p.task.taskId);

describe('ParkedTasks', () => {
  it('hands out a tenant’s tasks by priority, then arrival, as its slots allow; asks one task per tenant at a time', async () => {
    const { t, p } = lot({ tA: 2, tB: 0 });
    p.park(parked('a1', 'tA'));
    p.park(parked('a2', 'tA', { priority: 'high' }));
    p.park(parked('a3', 'tA'));
    p.park(parked('b1', 'tB'));
    expect(p.size).toBe(4);
    expect(p.waiting('tA')).toBe(true);
    const got = await p.claim(['llm'], 8, unlimited);
    expect(ids(got)).toEqual(['a2', 'a1']);
    // tA: a2 granted, a1 granted, a3 refused; tB: b1 refused. Never two of one tenant in one round.
    expect(t.asked).toEqual(['a2', 'b1', 'a1', 'a3']);
    expect(p.size).toBe(2);
  });

  it('a refused tenant is asked again only after tenancy’s wait, or at once when a slot of it was freed here', async () => {
    const { t, woken, p } = lot({ tA: 0 });
    p.park(parked('a1', 'tA'), 200);
    expect(p.due(['llm'])).toBe(false);
    expect(await p.claim(['llm'], 1, unlimited)).toEqual([]);
    expect(t.asked).toEqual([]);
    t.free.tA = 1;
    p.slotFreed('tA');
    expect(woken).toEqual(['llm']);
    expect(p.due(['llm'])).toBe(true);
    expect(ids(await p.claim(['llm'], 1, unlimited))).toEqual(['a1']);
    expect(p.waiting('tA')).toBe(false);
  });

  it('wakes the takes for the tenant’s capabilities when tenancy’s wait is over', async () => {
    const { woken, p } = lot({ tA: 0 });
    p.park(parked('a1', 'tA', { capability: 'summarize' }), 20);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => woken.length && (clearInterval(check), resolve()), 5);
    });
    expect(woken).toEqual(['summarize']);
    // Due from then on, even if the wall clock lags the timer (the test's clock did not move at all).
    expect(p.due(['summarize'])).toBe(true);
  });

  it('only capabilities the take asks for, within its budget (an open breaker takes none)', async () => {
    const { p } = lot({ tA: 5 });
    p.park(parked('x1', 'tA', { capability: 'echo' }));
    p.park(parked('l1', 'tA'));
    const refunds: string[] = [];
    const closedForLlm: PullBudget = { reserve: (c, want) => (c === 'llm' ? 0 : want), refund: (c) => refunds.push(c) };
    expect(await p.claim(['llm'], 4, closedForLlm)).toEqual([]);
    expect(ids(await p.claim(['llm', 'echo'], 4, closedForLlm))).toEqual(['x1']);
    expect(refunds).toEqual([]);
  });

  it('a task cancelled while its slot was being asked for gives the slot straight back', async () => {
    const { t, p } = lot({ tA: 1 });
    p.park(parked('a1', 'tA'));
    const go = t.pause();
    const claiming = p.claim(['llm'], 1, unlimited);
    expect(ids(p.remove('a1'))).toEqual(['a1']);
    go();
    expect(await claiming).toEqual([]);
    expect(t.released).toEqual(['a1']);
    expect(p.waiting('tA')).toBe(false);
  });

  it('keeps parked messages alive every keepAliveMs and takes out those past their deadline', () => {
    const { p } = lot({});
    const live = parked('a1', 'tA');
    const late = parked('a2', 'tA', { deadlineInMs: 500 });
    p.park(live);
    p.park(late);
    clock.t += 600;
    expect(ids(p.sweep())).toEqual(['a2']);
    expect(live.msg.working).not.toHaveBeenCalled();
    clock.t += 500;
    p.sweep();
    expect(live.msg.working).toHaveBeenCalledTimes(1);
    expect(ids(p.drain())).toEqual(['a1']);
    expect(p.size).toBe(0);
    expect(p.waiting('tA')).toBe(false);
  });
});
