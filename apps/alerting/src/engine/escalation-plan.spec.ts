import type { EscalationPolicy } from '@sb/contracts';
import { following, inBusinessHours, localTime, nextAtAfter, startEscalation, trackAt } from './escalation-plan';

const schedule = {
  timeZone: 'America/New_York',
  businessHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
  inHours: [{ delayMs: 0, channelIds: ['team-lead'] }, { delayMs: 15 * 60_000, channelIds: ['senior-engineer'] }],
  afterHours: [{ delayMs: 0, channelIds: ['on-call'] }, { delayMs: 15 * 60_000, channelIds: ['backup-on-call'] }],
};
const policy: EscalationPolicy = { id: 'p1', name: 'ops', schedule, repeat: 1, createdAt: '', updatedAt: '' };

describe('business hours in a time zone', () => {
  it('reads local weekday and time across DST', () => {
    expect(localTime('America/New_York', Date.parse('2026-01-05T14:30:00Z'))).toEqual({ day: 1, minutes: 9 * 60 + 30 }); // EST
    expect(localTime('America/New_York', Date.parse('2026-07-06T13:30:00Z'))).toEqual({ day: 1, minutes: 9 * 60 + 30 }); // EDT
  });
  it('is in hours on a weekday between start and end only', () => {
    expect(inBusinessHours(schedule, Date.parse('2026-01-05T14:30:00Z'))).toBe(true); // Mon 09:30 local
    expect(inBusinessHours(schedule, Date.parse('2026-01-05T13:59:00Z'))).toBe(false); // Mon 08:59
    expect(inBusinessHours(schedule, Date.parse('2026-01-05T22:00:00Z'))).toBe(false); // Mon 17:00 (end exclusive)
    expect(inBusinessHours(schedule, Date.parse('2026-01-10T15:00:00Z'))).toBe(false); // Saturday
    expect(inBusinessHours(schedule, Date.parse('2026-01-06T03:00:00Z'))).toBe(false); // Mon 22:00 local, Tue in UTC
  });
  it('routes to the in-hours or after-hours levels', () => {
    expect(startEscalation(policy, Date.parse('2026-01-05T15:00:00Z'))).toMatchObject({ track: 'inHours', paged: ['team-lead'] });
    expect(startEscalation(policy, Date.parse('2026-01-06T01:00:00Z'))).toMatchObject({ track: 'afterHours', paged: ['on-call'] });
    expect(trackAt({ ...policy, schedule: undefined, levels: schedule.inHours }, 0)).toBe('default');
  });
});

describe('escalation steps', () => {
  it('walks the levels, loops `repeat` times, then stops', () => {
    const t0 = Date.parse('2026-01-05T15:00:00Z');
    const s = startEscalation(policy, t0);
    expect(s.nextAt).toBe(t0 + 15 * 60_000);
    expect(following(policy, s)).toEqual({ level: 1, loop: 0 });
    expect(following(policy, { track: 'inHours', level: 1, loop: 0 })).toEqual({ level: 0, loop: 1 });
    // Starting over waits the last level's delay when the first level has none.
    expect(nextAtAfter(policy, { track: 'inHours', level: 1, loop: 0 }, t0)).toBe(t0 + 15 * 60_000);
    expect(following(policy, { track: 'inHours', level: 1, loop: 1 })).toBeNull();
    expect(following({ ...policy, repeat: -1 }, { track: 'inHours', level: 1, loop: 50 })).toEqual({ level: 0, loop: 51 });
  });
});
