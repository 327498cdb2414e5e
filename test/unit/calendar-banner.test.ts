import { yearToEnter } from '../../console/admin-calendar-view';

/** The admin pages' reminder to enter next year's calendar, from November (Beijing time). */
describe('yearToEnter', () => {
  it('when it is November or December and next year is missing, then next year is to be entered', () => {
    expect(yearToEnter(new Date('2026-11-01T00:00:00+08:00'), [2025, 2026])).toBe(2027);
    expect(yearToEnter(new Date('2026-12-31T23:59:00+08:00'), [2026])).toBe(2027);
  });

  it('when next year is entered already, or it is before November in Beijing, then nothing is asked', () => {
    expect(yearToEnter(new Date('2026-11-15T10:00:00+08:00'), [2026, 2027])).toBeNull();
    expect(yearToEnter(new Date('2026-10-31T23:59:00+08:00'), [2026])).toBeNull();
    // 31 October 17:00 UTC is already 1 November in Beijing
    expect(yearToEnter(new Date('2026-10-31T17:00:00Z'), [2026])).toBe(2027);
    // 31 December 16:30 UTC is 1 January 2027 in Beijing: 2028 is not asked for yet
    expect(yearToEnter(new Date('2026-12-31T16:30:00Z'), [2026])).toBeNull();
  });
});
