import type { BreakerState, ShedState } from '@sb/contracts';
import { IntakeGuard } from './intake-guard';

const breaker = (state: BreakerState['state'], retryAt: number | null, since = 's1'): BreakerState => ({
  scope: 'capability', key: 'llm', capability: 'llm', agentId: null, state, since, retryAt: retryAt === null ? null : new Date(retryAt).toISOString(), reason: 'all_agents_open', failures: 5, attempts: 5, consecutive: 0, probes: 1, epoch: 1,
});
const shed = (level: ShedState['level'], expiresAt: number): ShedState => ({
  capability: 'llm', level, shedding: level === 'none' ? [] : level === 'low' ? ['low'] : ['low', 'normal'], reason: 'deficit', freeCapacity: 0, pending: 40,
  pendingByPriority: { high: 0, normal: 40, low: 0 }, agentsUp: 1, since: '', updatedAt: '', expiresAt: new Date(expiresAt).toISOString(), retryAfterS: 7, epoch: 1,
});

function refusal(fn: () => void): { code: string; status: number; retryAfter?: number; retryable: boolean } | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    const err = e as { code: string; status: number; retryAfter?: number; retryable: boolean };
    return { code: err.code, status: err.status, retryAfter: err.retryAfter, retryable: err.retryable };
  }
}

describe('IntakeGuard', () => {
  let t: number;
  const refused: string[] = [];
  const guard = () => new IntakeGuard({ halfOpenAdmits: 2, staleGraceMs: 30_000 }, (c, r) => refused.push(`${c}:${r}`), () => t);
  beforeEach(() => {
    t = 1_000_000;
    refused.length = 0;
  });

  it('admits everything with no state', () => {
    expect(refusal(() => guard().check('llm', 'low'))).toBeUndefined();
  });

  it('an open capability breaker refuses every priority with 503 and the seconds until it half-opens', () => {
    const g = guard();
    g.apply('breaker.capability.llm', breaker('open', t + 4_200));
    expect(refusal(() => g.check('llm', 'high'))).toEqual({ code: 'RECOVERY.CAPABILITY_UNAVAILABLE', status: 503, retryAfter: 5, retryable: true });
    expect(refusal(() => g.check('other', 'high'))).toBeUndefined();
    expect(refused).toEqual(['llm:breaker_open']);
  });

  it('fails open when an open breaker is far past its retry time (no leader moved it)', () => {
    const g = guard();
    g.apply('breaker.capability.llm', breaker('open', t - 31_000));
    expect(refusal(() => g.check('llm', 'normal'))).toBeUndefined();
    g.apply('breaker.capability.llm', breaker('open', t - 1_000));
    expect(refusal(() => g.check('llm', 'normal'))?.retryAfter).toBe(1);
  });

  it('half-open lets a few probes through per period, then refuses; closed admits again', () => {
    const g = guard();
    g.apply('breaker.capability.llm', breaker('half_open', null, 'p1'));
    expect(refusal(() => g.check('llm', 'normal'))).toBeUndefined();
    expect(refusal(() => g.check('llm', 'normal'))).toBeUndefined();
    expect(refusal(() => g.check('llm', 'normal'))?.code).toBe('RECOVERY.CAPABILITY_UNAVAILABLE');
    g.apply('breaker.capability.llm', breaker('half_open', null, 'p2'));
    expect(refusal(() => g.check('llm', 'normal'))).toBeUndefined();
    g.apply('breaker.capability.llm', breaker('closed', null));
    for (let i = 0; i < 5; i++) expect(refusal(() => g.check('llm', 'normal'))).toBeUndefined();
  });

  it('sheds the listed priorities only, while the state is fresh', () => {
    const g = guard();
    g.apply('shed.llm', shed('low', t + 5_000));
    expect(refusal(() => g.check('llm', 'low'))).toEqual({ code: 'RECOVERY.LOAD_SHED', status: 503, retryAfter: 7, retryable: true });
    expect(refusal(() => g.check('llm', 'normal'))).toBeUndefined();
    g.apply('shed.llm', shed('normal', t + 5_000));
    expect(refusal(() => g.check('llm', 'normal'))?.code).toBe('RECOVERY.LOAD_SHED');
    expect(refusal(() => g.check('llm', 'high'))).toBeUndefined();
    t += 5_000; // expired: nobody refreshed it
    expect(refusal(() => g.check('llm', 'low'))).toBeUndefined();
    g.apply('shed.llm', shed('none', t + 5_000));
    t -= 5_000;
    expect(refusal(() => g.check('llm', 'low'))).toBeUndefined();
  });
});
