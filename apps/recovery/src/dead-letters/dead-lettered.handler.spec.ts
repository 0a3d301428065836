import type { DeadLetter } from '@sb/contracts';
import { DeadLetteredHandler } from './dead-lettered.handler';

const entry = (capability: string): DeadLetter => ({
  task: { taskId: 't1', tenantId: 'tn', capability, priority: 'normal', input: { a: 1 }, metadata: {}, timeoutMs: 1000, deadlineAt: 'x', createdAt: 'x' },
  errors: [{ code: 'AGENT.BAD', message: 'no', retryable: false, attempt: 1 }],
  deadLetteredAt: 'x',
});

describe('DeadLetteredHandler', () => {
  function make(leader: boolean) {
    const observe = jest.fn();
    const h = new DeadLetteredHandler({ observe }, { isLeader: () => leader }, () => 42);
    return { h, observe };
  }

  it('feeds a dead letter to the poison watch on the leader, with the clock', () => {
    const { h, observe } = make(true);
    const e = entry('parse');
    h.onDeadLetter(e);
    expect(observe).toHaveBeenCalledWith(e, 42);
  });

  it('does nothing on a follower', () => {
    const { h, observe } = make(false);
    h.onDeadLetter(entry('parse'));
    expect(observe).not.toHaveBeenCalled();
  });

  it('ignores a body that is not a dead letter (not JSON, no task, no errors)', () => {
    const { h, observe } = make(true);
    for (const body of [undefined, null, 5, 'x', {}, { task: {} }, { task: { capability: 'c' } }, { task: { capability: 'c' }, errors: 'no' }]) h.onDeadLetter(body);
    expect(observe).not.toHaveBeenCalled();
  });
});
