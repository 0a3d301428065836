import { type AlertRule, AlertRuleInputSchema } from '@sb/contracts';
import { labelKey } from './labels';
import { RuleEvaluator } from './rule-evaluator';
import { SeriesBudget } from './series-budget';

const rule = (r: unknown): AlertRule => ({ ...AlertRuleInputSchema.parse(r), id: 'r1', createdAt: '', updatedAt: '' });
const T0 = 1_000_000;

describe('RuleEvaluator', () => {
  it('threshold: breaches per series with matchers', () => {
    const ev = new RuleEvaluator(rule({ type: 'threshold', name: 'Hot', severity: 'warning', selector: { metric: 'cpu', matchers: [{ name: 'agent', op: '!=', value: 'skip' }] }, op: '>', value: 80 }), T0, 60_000);
    ev.ingest([{ metric: 'cpu', labels: { agent: 'a' }, value: 90 }, { metric: 'cpu', labels: { agent: 'b' }, value: 10 }, { metric: 'cpu', labels: { agent: 'skip' }, value: 99 }, { metric: 'mem', labels: { agent: 'c' }, value: 99 }], T0);
    expect([...ev.breaches(T0).values()]).toEqual([{ labels: { agent: 'a' }, value: 90 }]);
    ev.ingest([{ metric: 'cpu', labels: { agent: 'a' }, value: 50 }], T0 + 1);
    expect(ev.breaches(T0 + 1).size).toBe(0);
    expect(ev.covers(labelKey({ agent: 'a' }), T0 + 1)).toBe(true);
    expect(ev.covers(labelKey({ agent: 'zzz' }), T0 + 1)).toBe(false); // not heard from yet
    expect(ev.covers(labelKey({ agent: 'zzz' }), T0 + 60_000)).toBe(true); // stale period passed
  });

  it('judges only the series a batch touched on the push path (per-series rules)', () => {
    const ev = new RuleEvaluator(rule({ type: 'threshold', name: 'Hot', severity: 'warning', selector: { metric: 'cpu' }, op: '>', value: 80 }), T0, 60_000);
    ev.ingest([{ metric: 'cpu', labels: { agent: 'a' }, value: 90 }, { metric: 'cpu', labels: { agent: 'b' }, value: 95 }], T0);
    const touched = ev.ingest([{ metric: 'cpu', labels: { agent: 'a' }, value: 50 }, { metric: 'other', labels: { agent: 'b' }, value: 1 }], T0 + 1);
    expect([...touched]).toEqual([labelKey({ agent: 'a' })]);
    expect(ev.perSeries).toBe(true);
    expect(ev.breaches(T0 + 1, touched).size).toBe(0);
    expect([...ev.breaches(T0 + 1).values()].map((b) => b.labels.agent)).toEqual(['b']);
  });

  it('holds at most the shared series budget: new series beyond it are dropped and counted, held ones keep updating', () => {
    let refused = 0;
    const budget = new SeriesBudget(3, () => (refused += 1));
    const hot = new RuleEvaluator(rule({ type: 'threshold', name: 'Hot', severity: 'warning', selector: { metric: 'cpu' }, op: '>', value: 80 }), T0, 60_000, budget);
    const grow = new RuleEvaluator(rule({ type: 'rate_of_change', name: 'Grow', severity: 'warning', selector: { metric: 'q' }, windowMs: 60_000, op: '>', value: 0 }), T0, 60_000, budget);
    const cpu = (agent: string, value: number) => ({ metric: 'cpu', labels: { agent }, value });
    expect([...hot.ingest([cpu('a', 90), cpu('b', 90)], T0)]).toHaveLength(2);
    expect([...grow.ingest([{ metric: 'q', labels: { x: '1' }, value: 1 }, { metric: 'q', labels: { x: '2' }, value: 1 }], T0)]).toEqual([labelKey({ x: '1' })]);
    const touched = hot.ingest([cpu('a', 95), cpu('c', 99)], T0 + 1);
    expect([...touched]).toEqual([labelKey({ agent: 'a' })]);
    expect([budget.size, refused]).toEqual([3, 2]);
    expect([...hot.breaches(T0 + 1).values()].map((b) => [b.labels.agent, b.value])).toEqual([['a', 95], ['b', 90]]);
    // Stale series and discarded evaluators give their room back.
    hot.ingest([cpu('a', 95)], T0 + 50_000);
    hot.expire(T0 + 60_001);
    expect(budget.size).toBe(2);
    grow.dispose();
    expect(budget.size).toBe(1);
    expect([...hot.ingest([cpu('c', 99), cpu('d', 99)], T0 + 60_002)]).toHaveLength(2);
    expect([budget.size, refused]).toEqual([3, 2]);
  });

  it('threshold with aggregation over series', () => {
    const ev = new RuleEvaluator(rule({ type: 'threshold', name: 'Sum', severity: 'info', selector: { metric: 'q' }, op: '>=', value: 10, aggregate: { op: 'sum', by: ['cap'] } }), T0, 60_000);
    ev.ingest([{ metric: 'q', labels: { cap: 'x', p: 'high' }, value: 6 }, { metric: 'q', labels: { cap: 'x', p: 'low' }, value: 4 }, { metric: 'q', labels: { cap: 'y', p: 'low' }, value: 9 }], T0);
    expect([...ev.breaches(T0).values()]).toEqual([{ labels: { cap: 'x' }, value: 10 }]);
  });

  it('rate of change: per second over the window', () => {
    const ev = new RuleEvaluator(rule({ type: 'rate_of_change', name: 'Grow', severity: 'warning', selector: { metric: 'q' }, windowMs: 60_000, op: '>', value: 0 }), T0, 600_000);
    ev.ingest([{ metric: 'q', labels: {}, value: 10 }], T0);
    expect(ev.breaches(T0).size).toBe(0); // one point is no rate
    ev.ingest([{ metric: 'q', labels: {}, value: 40 }], T0 + 30_000);
    expect([...ev.breaches(T0 + 30_000).values()][0].value).toBeCloseTo(1);
    ev.ingest([{ metric: 'q', labels: {}, value: 40 }], T0 + 120_000);
    ev.ingest([{ metric: 'q', labels: {}, value: 40 }], T0 + 150_000);
    expect(ev.breaches(T0 + 150_000).size).toBe(0); // flat over the window
  });

  it('absence: fires when nothing matched for the period', () => {
    const ev = new RuleEvaluator(rule({ type: 'absence', name: 'Gone', severity: 'critical', selector: { metric: 'hb' }, absentForMs: 10_000 }), T0, 60_000);
    expect(ev.breaches(T0 + 9_999).size).toBe(0);
    expect(ev.breaches(T0 + 10_000).size).toBe(1);
    ev.ingest([{ metric: 'hb', labels: {}, value: 1 }], T0 + 11_000);
    expect(ev.breaches(T0 + 12_000).size).toBe(0);
  });

  it('agent down: down adds, up and left remove', () => {
    const ev = new RuleEvaluator(rule({ type: 'agent_down', name: 'AgentDown', severity: 'critical' }), T0, 60_000);
    const e = (agentId: string, state: 'up' | 'down' | 'left') => ({ agentId, state, reason: '', at: '', lastHeartbeatAt: null, host: 'h1', capabilities: [], labels: {} });
    expect(ev.liveness(e('a', 'down'))).toBe(true);
    expect([...ev.breaches(T0).values()]).toEqual([{ labels: { agent: 'a', host: 'h1' }, value: null }]);
    expect(ev.liveness(e('a', 'left'))).toBe(true);
    expect(ev.breaches(T0).size).toBe(0);
    expect(ev.covers(labelKey({ agent: 'a', host: 'h1' }), T0)).toBe(true);
    expect(ev.covers(labelKey({ agent: 'b', host: 'h1' }), T0 + 10 ** 9)).toBe(false);
  });
});
