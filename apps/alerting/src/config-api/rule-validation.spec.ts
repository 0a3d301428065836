/** Bad rules, silences and policies are refused with the field path (validated by the contract schemas at the edge). */
import { AlertRuleInputSchema, EscalationPolicyInputSchema, SilenceInputSchema, ValidationError } from '@sb/contracts';
import { validate } from '@sb/messaging';
import { DEFAULT_RULES } from './default-rules';

function issues(schema: Parameters<typeof validate>[0], body: unknown): string[] {
  try {
    validate(schema, body);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return ((e as ValidationError).details as { issues: Array<{ path: string }> }).issues.map((i) => i.path);
  }
  throw new Error('expected a validation error');
}

describe('alerting input validation', () => {
  const good = { type: 'threshold', name: 'Hot', severity: 'warning', selector: { metric: 'cpu' }, op: '>', value: 1 };
  it('accepts a valid rule and fills defaults', () => {
    expect(validate(AlertRuleInputSchema, good)).toMatchObject({ forMs: 0, labels: {}, route: { channelIds: [] }, aggregate: { op: 'none' } });
  });
  it('names the bad field', () => {
    expect(issues(AlertRuleInputSchema, { ...good, op: '=>' })).toEqual(['op']);
    expect(issues(AlertRuleInputSchema, { ...good, severity: 'fatal' })).toEqual(['severity']);
    expect(issues(AlertRuleInputSchema, { ...good, selector: { metric: 'cpu', matchers: [{ name: 'a', op: '=~', value: '(' }] } })).toEqual(['selector.matchers.0.value']);
    expect(issues(AlertRuleInputSchema, { ...good, route: { groupIntervalMs: 5 } })).toEqual(['route.groupIntervalMs']);
    expect(issues(AlertRuleInputSchema, { ...good, owner: 'me' })).toEqual(['(body)']); // unrecognized key 'owner', named in the message
    expect(issues(AlertRuleInputSchema, { ...good, type: 'magic' })).toEqual(['type']);
    expect(issues(SilenceInputSchema, { matchers: [], endsAt: '2030-01-01T00:00:00Z', comment: 'x' })).toEqual(['matchers']);
    expect(issues(SilenceInputSchema, { matchers: [{ name: 'a', value: 'b' }], startsAt: '2030-01-02T00:00:00Z', endsAt: '2030-01-01T00:00:00Z', comment: 'x' })).toEqual(['endsAt']);
    expect(issues(EscalationPolicyInputSchema, { name: 'p', levels: [{ delayMs: 0, channelIds: [] }] })).toEqual(['levels.0.channelIds']);
    expect(issues(EscalationPolicyInputSchema, { name: 'p', schedule: { timeZone: 'Mars/Base', businessHours: { days: [1], start: '09:00', end: '17:00' }, inHours: [{ delayMs: 0, channelIds: ['a'] }], afterHours: [{ delayMs: 0, channelIds: ['b'] }] } })).toEqual(['schedule.timeZone']);
  });
  it('ships valid default rules', () => {
    expect(DEFAULT_RULES.map((d) => d.rule.name)).toEqual(['AgentDown', 'TaskErrorRatioHigh', 'TaskErrorRatioHigh', 'TaskLatencyP95High', 'QueueBacklogGrowing', 'DeadLettersPresent', 'AgentHeartbeatFlapping']);
  });
});
