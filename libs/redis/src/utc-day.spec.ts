/** The quota day: its name and how long is left of it, across a day boundary and back. */
import { utcDay } from './submit-gate';

describe('utcDay', () => {
  it('names the UTC day and the ms left in it, whichever day was asked before', () => {
    expect(utcDay(new Date('2026-12-04T23:59:59.999Z'))).toEqual({ day: '2026-12-04', msLeft: 1 });
    expect(utcDay(new Date('2026-12-05T00:00:00.000Z'))).toEqual({ day: '2026-12-05', msLeft: 86_400_000 });
    expect(utcDay(new Date('2026-12-04T12:00:00.000Z'))).toEqual({ day: '2026-12-04', msLeft: 43_200_000 });
    expect(utcDay(new Date('2028-02-29T06:00:00.000Z'))).toEqual({ day: '2028-02-29', msLeft: 64_800_000 });
  });
});
