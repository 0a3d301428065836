import type { DeadLetter, RaiseAlert } from '@sb/contracts';
import { PoisonWatch } from './poison-watch';

const entry = (input: unknown, code = 'AGENT.ERROR', tenantId = 'tn'): DeadLetter => ({
  task: { taskId: `t${Math.random()}`, tenantId, capability: 'llm', priority: 'normal', input, metadata: {}, timeoutMs: 1, deadlineAt: '', createdAt: '' },
  errors: [{ code, message: 'x', retryable: true }],
  deadLetteredAt: '',
});

describe('PoisonWatch', () => {
  it('raises once when the same input dead-letters N times in the window, resolves when it stops', () => {
    const alerts: RaiseAlert[] = [];
    const w = new PoisonWatch({ threshold: 3, windowMs: 60_000 }, (a) => alerts.push(a));
    let t = 1_000_000;
    w.observe(entry({ a: 1, b: 2 }), t);
    w.observe(entry({ b: 2, a: 1 }, 'AGENT.ERROR', 'other-tenant'), (t += 1_000));
    expect(alerts).toHaveLength(0);
    const third = w.observe(entry({ a: 1, b: 2 }), (t += 1_000));
    expect(third.count).toBe(3);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ name: 'PoisonTask', state: 'firing', labels: { capability: 'llm', fingerprint: third.fingerprint } });
    w.observe(entry({ a: 1, b: 2 }), (t += 1_000));
    expect(alerts).toHaveLength(1);
    w.tick((t += 30_000));
    expect(alerts).toHaveLength(1);
    w.tick((t += 60_000));
    expect(alerts.map((a) => a.state)).toEqual(['firing', 'resolved']);
  });

  it('different inputs or error codes are different poisons; old occurrences slide out', () => {
    const alerts: RaiseAlert[] = [];
    const w = new PoisonWatch({ threshold: 2, windowMs: 10_000 }, (a) => alerts.push(a));
    w.observe(entry({ a: 1 }), 0);
    w.observe(entry({ a: 2 }), 1);
    w.observe(entry({ a: 1 }, 'OTHER'), 2);
    w.observe(entry({ a: 1 }), 20_000); // the first one is out of the window
    expect(alerts).toHaveLength(0);
  });
});
