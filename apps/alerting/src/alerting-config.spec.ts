import { ConfigError } from '@sb/config';
import { DEFAULT_INHIBIT_RULES } from './alerting-config';
import { loadAlertingConfig } from './config';

describe('alerting config', () => {
  it('defaults the engine settings and inhibit rules', () => {
    const c = loadAlertingConfig({});
    expect(c).toMatchObject({ ALERTING_TICK_MS: 1000, ALERTING_GROUP_WAIT_MS: 30_000, ALERTING_DEFAULT_CHANNEL_IDS: [], ALERTING_DEFAULT_RULES: true });
    expect(c.ALERTING_INHIBIT_RULES).toEqual(DEFAULT_INHIBIT_RULES);
  });
  it('parses custom inhibit rules and refuses bad ones with the variable name', () => {
    const rules = [{ source: [{ name: 'alertname', value: 'ZoneDown' }], target: [{ name: 'zone', op: '=~', value: '.+' }], equal: ['zone'] }];
    expect(loadAlertingConfig({ ALERTING_INHIBIT_RULES: JSON.stringify(rules) }).ALERTING_INHIBIT_RULES).toEqual([{ ...rules[0], source: [{ name: 'alertname', op: '=', value: 'ZoneDown' }] }]);
    expect(() => loadAlertingConfig({ ALERTING_INHIBIT_RULES: '[{"source": []}]' })).toThrow(ConfigError);
    expect(() => loadAlertingConfig({ ALERTING_INHIBIT_RULES: 'nope' })).toThrow(/ALERTING_INHIBIT_RULES/);
    expect(() => loadAlertingConfig({ ALERTING_TICK_MS: '0' })).toThrow(/ALERTING_TICK_MS/);
  });
});
