import { effectiveLimits, mergeKeyLimits, modelAllowed, PLANS, policyOf } from './plans';

describe('plans', () => {
  it('resolves a plan with no overrides to its table entry (a copy)', () => {
    const l = effectiveLimits('pro', undefined);
    expect(l).toEqual(PLANS.pro);
    l.models.push('x');
    expect(PLANS.pro.models).not.toContain('x');
  });

  it('overlays overrides field by field, including null (unlimited) and model lists', () => {
    const l = effectiveLimits('free', { submitBurst: 100, tasksPerDay: null, models: ['small', 'medium'] });
    expect(l).toMatchObject({ submitRate: PLANS.free.submitRate, submitBurst: 100, tasksPerDay: null, tokensPerDay: PLANS.free.tokensPerDay, models: ['small', 'medium'] });
  });

  it('treats an unknown plan as free', () => {
    expect(effectiveLimits('gold', undefined)).toEqual(PLANS.free);
  });

  it('builds the policy with key overrides', () => {
    const p = policyOf({ id: 't1', name: 'n', plan: 'enterprise', status: 'active', createdAt: '', updatedAt: '', keyLimits: { k1: { rate: 1, burst: 2 } } });
    expect(p).toEqual({ tenantId: 't1', plan: 'enterprise', limits: PLANS.enterprise, keyLimits: { k1: { rate: 1, burst: 2 } } });
  });

  it('merges key limits, null removing an entry', () => {
    expect(mergeKeyLimits({ a: { rate: 1, burst: 1 }, b: { rate: 2, burst: 2 } }, { a: null, c: { rate: 3, burst: 3 } })).toEqual({ b: { rate: 2, burst: 2 }, c: { rate: 3, burst: 3 } });
  });

  it('allows a model when listed or when the list has *', () => {
    expect(modelAllowed({ models: ['small'] }, 'small')).toBe(true);
    expect(modelAllowed({ models: ['small'] }, 'large')).toBe(false);
    expect(modelAllowed({ models: ['*'] }, 'anything')).toBe(true);
  });
});
