import type { TaskRecord } from '@sb/contracts';
import { holdsLease, isPastDeadline, markCancelled, markReclaimed, markDeadLettered, markFailed, markRetrying, markRunning, markSucceeded, markTimedOut } from './transitions';
import { newTaskId } from './ids';

const now = new Date('2026-01-01T00:00:00Z');
const base: TaskRecord = {
  taskId: 't1', tenantId: 'tn', capability: 'echo', priority: 'normal', status: 'queued', input: 1, metadata: {},
  timeoutMs: 1000, deadlineAt: '2026-01-01T00:00:01.000Z', errors: [], attempts: 0, createdAt: now.toISOString(),
};
const err = { code: 'X', message: 'boom', retryable: true };

describe('task transitions', () => {
  it('queued → running → succeeded', () => {
    const r = markRunning(base, 'w1', 1, now)!;
    expect(r).toMatchObject({ status: 'running', agentId: 'w1', attempts: 1 });
    expect(markSucceeded(r, { ok: 1 }, now)).toMatchObject({ status: 'succeeded', result: { ok: 1 }, finishedAt: now.toISOString() });
  });

  it('a result is only accepted from running', () => {
    expect(markSucceeded(base, 1, now)).toBeUndefined();
  });

  it('a retry goes back to queued and keeps the error history', () => {
    const r = markRetrying(markRunning(base, 'w', 1, now)!, err)!;
    expect(r.status).toBe('queued');
    expect(markRetrying(r, err)!.errors).toHaveLength(2);
  });

  it('no transition leaves a terminal state', () => {
    const terminal = [markSucceeded(markRunning(base, 'w', 1, now)!, 1, now)!, markFailed(base, err, now)!, markCancelled(base, now)!, markTimedOut(base, now)!, markDeadLettered(base, err, now)!];
    for (const t of terminal) {
      expect(markRunning(t, 'w', 2, now)).toBeUndefined();
      expect(markCancelled(t, now)).toBeUndefined();
      expect(markTimedOut(t, now)).toBeUndefined();
      expect(markRetrying(t, err)).toBeUndefined();
      expect(markFailed(t, err, now)).toBeUndefined();
    }
  });

  it('deadline', () => {
    expect(isPastDeadline(base, new Date('2026-01-01T00:00:00.999Z'))).toBe(false);
    expect(isPastDeadline(base, new Date('2026-01-01T00:00:01.001Z'))).toBe(true);
  });

  it('task ids sort by creation time and are subject-safe', () => {
    const a = newTaskId(1_700_000_000_000);
    const b = newTaskId(1_700_000_000_001);
    expect(a < b).toBe(true);
    expect(a).toMatch(/^t[0-9a-z]{26}$/);
  });

  it('every start takes a new lease epoch; only the current holder holds it', () => {
    const a = markRunning(base, 'w1', 1, now)!;
    expect(a.lease).toEqual({ agentId: 'w1', epoch: 1 });
    const b = markRunning(a, 'w2', 2, now)!;
    expect(b.lease).toEqual({ agentId: 'w2', epoch: 2 });
    expect(holdsLease(b, a.lease)).toBe(false);
    expect(holdsLease(b, b.lease)).toBe(true);
    // Same agent restarting the task still gets a new epoch: its old attempt is fenced off.
    const c = markRunning(b, 'w2', 3, now)!;
    expect(holdsLease(c, b.lease)).toBe(false);
    expect(markReclaimed(c, b.lease)).toBeUndefined();
    expect(markReclaimed(c, c.lease)).toMatchObject({ status: 'queued', lease: c.lease });
    expect(holdsLease(markSucceeded(c, 1, now)!, c.lease)).toBe(false);
  });
});
