/**
 * Escalation policies as pure functions: which track (business hours or after hours, in the
 * policy's IANA zone) an alert follows, which levels that track has, and where an unacknowledged
 * alert goes next.
 */
import type { EscalationLevel, EscalationPolicy, EscalationSchedule } from '@sb/contracts';

export type Track = 'default' | 'inHours' | 'afterHours';
export interface EscalationState {
  policyId: string;
  track: Track;
  /** Index of the level last reached (0 = the first page, sent with the group's notification). */
  level: number;
  /** How many times the levels have started over. */
  loop: number;
  /** When to move on, ms since epoch; null when the policy is exhausted. */
  nextAt: number | null;
  /** Every channel paged so far (acks and resolves go to all of them). */
  paged: string[];
}

const DEFAULT_LOOP_DELAY_MS = 5 * 60_000;
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formatters = new Map<string, Intl.DateTimeFormat>();

/** ISO weekday (1 = Monday) and minutes since local midnight in `timeZone`. */
export function localTime(timeZone: string, at: number): { day: number; minutes: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  const parts = f.formatToParts(new Date(at));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return { day: WEEKDAYS[get('weekday')] ?? 1, minutes: Number(get('hour')) * 60 + Number(get('minute')) };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function inBusinessHours(s: EscalationSchedule, at: number): boolean {
  const { day, minutes } = localTime(s.timeZone, at);
  if (!s.businessHours.days.includes(day)) return false;
  const start = toMinutes(s.businessHours.start);
  const end = toMinutes(s.businessHours.end);
  return start <= end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
}

export function trackAt(p: EscalationPolicy, at: number): Track {
  if (!p.schedule) return 'default';
  return inBusinessHours(p.schedule, at) ? 'inHours' : 'afterHours';
}

export function levelsOf(p: EscalationPolicy, track: Track): EscalationLevel[] {
  if (track === 'inHours' && p.schedule) return p.schedule.inHours;
  if (track === 'afterHours' && p.schedule) return p.schedule.afterHours;
  return p.levels ?? p.schedule?.afterHours ?? [];
}

/** Escalation state for an alert that starts firing at `at`: level 0, next level after its delay. */
export function startEscalation(p: EscalationPolicy, at: number): EscalationState {
  const track = trackAt(p, at);
  const levels = levelsOf(p, track);
  const state: EscalationState = { policyId: p.id, track, level: 0, loop: 0, nextAt: null, paged: [...levels[0].channelIds] };
  state.nextAt = nextAtAfter(p, state, at);
  return state;
}

/** Where the alert goes after `s`: the next level, level 0 of another loop, or nowhere. */
export function following(p: EscalationPolicy, s: Pick<EscalationState, 'track' | 'level' | 'loop'>): { level: number; loop: number } | null {
  const levels = levelsOf(p, s.track);
  if (s.level + 1 < levels.length) return { level: s.level + 1, loop: s.loop };
  if (p.repeat === -1 || s.loop < p.repeat) return { level: 0, loop: s.loop + 1 };
  return null;
}

/** When to move from `s` (reached at `reachedAt`) to the following level. */
export function nextAtAfter(p: EscalationPolicy, s: Pick<EscalationState, 'track' | 'level' | 'loop'>, reachedAt: number): number | null {
  const next = following(p, s);
  if (!next) return null;
  const levels = levelsOf(p, s.track);
  if (next.level > 0) return reachedAt + levels[next.level].delayMs;
  // Starting over: wait the first level's delay, else the last level's, else five minutes (never a hot loop).
  return reachedAt + (levels[0].delayMs || levels[levels.length - 1].delayMs || DEFAULT_LOOP_DELAY_MS);
}
