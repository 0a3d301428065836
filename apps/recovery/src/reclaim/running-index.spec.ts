import { RunningIndex } from './running-index';

const ev = (status: 'queued' | 'running' | 'succeeded', agentId: string | null, attempts: number) => ({ taskId: 't1', tenantId: 'tn', capability: 'echo', status, agentId, attempts });

describe('RunningIndex', () => {
  it('keeps a task running on its agent when the gateway\'s queued event arrives after the worker\'s running one', () => {
    const idx = new RunningIndex(() => 0);
    idx.onEvent(ev('running', 'w1', 1));
    idx.onEvent(ev('queued', null, 0));
    expect(idx.runningOn('w1').map((t) => t.taskId)).toEqual(['t1']);
  });

  it('follows retries and restarts, and forgets finished tasks', () => {
    const idx = new RunningIndex(() => 0);
    idx.onEvent(ev('queued', null, 0));
    idx.onEvent(ev('running', 'w1', 1));
    idx.onEvent(ev('queued', null, 1)); // retry after a failed attempt
    expect(idx.runningOn('w1')).toEqual([]);
    idx.onEvent(ev('running', 'w2', 2));
    expect(idx.runningOn('w2')).toHaveLength(1);
    idx.onEvent(ev('succeeded', 'w2', 2));
    expect(idx.size).toBe(0);
  });

  it('offers tasks to the sweeper only once they are old enough, and not again before their memo', () => {
    let t = 0;
    const idx = new RunningIndex(() => t);
    idx.onEvent(ev('queued', null, 0));
    expect(idx.due(1000, 10)).toEqual([]);
    t = 1000;
    expect(idx.due(1000, 10)).toHaveLength(1);
    idx.remember('tn', 't1', 5000);
    expect(idx.due(1000, 10)).toEqual([]);
    t = 5000;
    expect(idx.due(1000, 10)).toHaveLength(1);
  });
});
