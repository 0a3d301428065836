import { ConfigError } from '@sb/config';
import { loadRecoveryConfig } from '../config';

describe('recovery resilience settings', () => {
  it('defaults: agent errors and timeouts count, 5 in a row or 50 % over 30 s', () => {
    const c = loadRecoveryConfig({});
    expect(c).toMatchObject({ BREAKER_COUNT: ['agent_error', 'timeout'], BREAKER_CONSECUTIVE_FAILURES: 5, BREAKER_ERROR_RATE_PCT: 50, BREAKER_WINDOW_MS: 30_000, SHED_LOW_DEFICIT: 200 });
  });

  it('takes a list of counted classes and refuses an unknown one by name', () => {
    expect(loadRecoveryConfig({ BREAKER_COUNT: 'agent_error, dependency' }).BREAKER_COUNT).toEqual(['agent_error', 'dependency']);
    expect(() => loadRecoveryConfig({ BREAKER_COUNT: 'agent_error,bugs' })).toThrow(ConfigError);
    expect(() => loadRecoveryConfig({ BREAKER_COUNT: 'agent_error,bugs' })).toThrow(/BREAKER_COUNT/);
    expect(() => loadRecoveryConfig({ BREAKER_ERROR_RATE_PCT: '0' })).toThrow(/BREAKER_ERROR_RATE_PCT/);
  });
});
