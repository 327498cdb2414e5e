import fc from 'fast-check';
import { loadShippedCalendarYears, parseHolidayYear } from '../../calendars';
import {
  addWorkingDays,
  addWorkingMinutes,
  CalendarError,
  createWorkingCalendar,
  isValidDeadline,
  isWorkingMoment,
  subtractWorkingDays,
  subtractWorkingMinutes,
  workingMinutesBetween,
} from '../../common/working-calendar';

const calendar = createWorkingCalendar(loadShippedCalendarYears());

/** A Beijing wall-clock time, e.g. `2025-09-30 10:00`. */
function bj(text: string): Date {
  return new Date(`${text.replace(' ', 'T')}:00+08:00`);
}

function beijingText(date: Date): string {
  return new Date(date.getTime() + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
}

describe('the shipped calendar data', () => {
  it('when the shipped years are loaded, then 2024 to 2026 are there with the notices’ make-up days', () => {
    const years = loadShippedCalendarYears();
    expect(years.map((y) => y.year)).toEqual([2024, 2025, 2026]);
    expect(years[1]!.workDays).toEqual([
      '2025-01-26',
      '2025-02-08',
      '2025-04-27',
      '2025-09-28',
      '2025-10-11',
    ]);
    expect(years[2]!.workDays).toEqual([
      '2026-01-04',
      '2026-02-14',
      '2026-02-28',
      '2026-05-09',
      '2026-09-20',
      '2026-10-10',
    ]);
  });

  it('when a year file is malformed, then the error names the file and the field', () => {
    expect(() =>
      parseHolidayYear(
        { year: 2027, days: [{ name: '元旦', date: '2027-13-01', isOffDay: true }] },
        '2027.json',
      ),
    ).toThrow(/2027\.json: days\.0\.date/);
    expect(() =>
      parseHolidayYear(
        { year: 2027, days: [{ name: '元旦', date: '2026-01-01', isOffDay: true }] },
        '2027.json',
      ),
    ).toThrow('2026-01-01 is not in 2027');
  });
});

describe('working days', () => {
  it('when a deadline of 1 working day spans 国庆 2025, then it lands after the holiday', () => {
    expect(beijingText(addWorkingDays(calendar, bj('2025-09-30 10:00'), 1).at)).toBe(
      '2025-10-09 10:00',
    );
  });

  it('when a case arrives on a Saturday before a make-up Sunday, then counting starts on the make-up day', () => {
    expect(beijingText(addWorkingDays(calendar, bj('2025-09-27 10:00'), 0).at)).toBe(
      '2025-09-28 09:00',
    );
    expect(beijingText(addWorkingDays(calendar, bj('2025-09-27 10:00'), 1).at)).toBe(
      '2025-09-29 09:00',
    );
  });

  it('when the next working day is a make-up Saturday (春节 2026), then the deadline falls on it', () => {
    expect(beijingText(addWorkingDays(calendar, bj('2026-02-13 16:00'), 1).at)).toBe(
      '2026-02-14 16:00',
    );
    expect(beijingText(addWorkingDays(calendar, bj('2026-02-14 16:00'), 1).at)).toBe(
      '2026-02-24 16:00',
    );
  });

  it('when a case arrives at lunch time or after hours, then it counts from the next opening', () => {
    expect(beijingText(addWorkingDays(calendar, bj('2026-03-02 12:30'), 1).at)).toBe(
      '2026-03-03 13:30',
    );
    expect(beijingText(addWorkingDays(calendar, bj('2026-03-06 20:00'), 1).at)).toBe(
      '2026-03-10 09:00',
    );
  });

  it('when a deadline runs into a year that is not in the calendar, then it assumes a normal week and says so', () => {
    const deadline = addWorkingDays(calendar, bj('2026-12-30 10:00'), 5);
    expect(beijingText(deadline.at)).toBe('2027-01-06 10:00');
    expect(deadline.assumedYears).toEqual([2027]);
    expect(addWorkingDays(calendar, bj('2026-03-02 10:00'), 5).assumedYears).toEqual([]);
  });
});

describe('working hours', () => {
  it('when 8 working hours start on the Friday before a make-up Saturday, then the last hour is worked on that Saturday', () => {
    // Friday 2025-10-10: 09:00–12:00 and 13:30–17:30 are 7 hours; Saturday 10-11 is a make-up day.
    expect(beijingText(addWorkingMinutes(calendar, bj('2025-10-10 09:00'), 8 * 60).at)).toBe(
      '2025-10-11 10:00',
    );
  });

  it('when "1 working day" and "8 working hours" start together, then they end at different times', () => {
    const start = bj('2026-03-02 09:00');
    expect(beijingText(addWorkingDays(calendar, start, 1).at)).toBe('2026-03-03 09:00');
    expect(beijingText(addWorkingMinutes(calendar, start, 8 * 60).at)).toBe('2026-03-03 10:00');
  });

  it('when the time ends exactly at closing, then the deadline is the closing minute', () => {
    expect(beijingText(addWorkingMinutes(calendar, bj('2026-03-02 16:30'), 60).at)).toBe(
      '2026-03-02 17:30',
    );
  });

  it('when inputs are impossible, then it refuses with a clear error', () => {
    expect(() => addWorkingMinutes(calendar, bj('2026-03-02 09:00'), -1)).toThrow(CalendarError);
    expect(() => addWorkingDays(calendar, bj('2026-03-02 09:00'), 1.5)).toThrow(CalendarError);
    expect(() =>
      createWorkingCalendar(
        [],
        [
          { start: 540, end: 720 },
          { start: 700, end: 800 },
        ],
      ),
    ).toThrow('overlap');
    expect(() =>
      createWorkingCalendar([{ year: 2026, offDays: ['2025-10-01'], workDays: [] }]),
    ).toThrow('2025-10-01 is listed under 2026');
  });
});

describe('properties over 2024–2026, holidays and make-up days included', () => {
  const instant = fc
    .integer({ min: bj('2024-01-01 00:00').getTime(), max: bj('2026-11-30 00:00').getTime() })
    .map((ms) => new Date(ms));
  const minutes = fc.integer({ min: 0, max: 6000 });
  const days = fc.integer({ min: 0, max: 40 });

  it('never lands on a non-working moment', () => {
    fc.assert(
      fc.property(instant, minutes, days, (start, m, d) => {
        expect(isValidDeadline(calendar, addWorkingMinutes(calendar, start, m).at)).toBe(true);
        expect(isWorkingMoment(calendar, addWorkingDays(calendar, start, d).at)).toBe(true);
      }),
    );
  });

  it('round-trips: the working time between the start and the deadline is what was asked for', () => {
    fc.assert(
      fc.property(instant, minutes, (start, m) => {
        const { at } = addWorkingMinutes(calendar, start, m);
        expect(workingMinutesBetween(calendar, start, at)).toBe(m);
      }),
    );
  });

  it('is monotonic in the amount and in the start', () => {
    fc.assert(
      fc.property(instant, instant, minutes, minutes, days, days, (s1, s2, m1, m2, d1, d2) => {
        const [early, late] = s1 <= s2 ? [s1, s2] : [s2, s1];
        const [few, many] = m1 <= m2 ? [m1, m2] : [m2, m1];
        const [fewDays, manyDays] = d1 <= d2 ? [d1, d2] : [d2, d1];
        expect(addWorkingMinutes(calendar, early, few).at.getTime()).toBeLessThanOrEqual(
          addWorkingMinutes(calendar, early, many).at.getTime(),
        );
        expect(addWorkingMinutes(calendar, early, m1).at.getTime()).toBeLessThanOrEqual(
          addWorkingMinutes(calendar, late, m1).at.getTime(),
        );
        expect(addWorkingDays(calendar, early, fewDays).at.getTime()).toBeLessThanOrEqual(
          addWorkingDays(calendar, early, manyDays).at.getTime(),
        );
        expect(addWorkingDays(calendar, early, d1).at.getTime()).toBeLessThanOrEqual(
          addWorkingDays(calendar, late, d1).at.getTime(),
        );
      }),
    );
  });
});

describe('counting working time back from a deadline (reminders before it)', () => {
  it('when 1 working day is counted back from Tuesday 17:30, then it is Monday 17:30; from a Monday, the Friday before', () => {
    expect(beijingText(subtractWorkingDays(calendar, bj('2025-09-23 17:30'), 1).at)).toBe(
      '2025-09-22 17:30',
    );
    expect(beijingText(subtractWorkingDays(calendar, bj('2025-09-22 10:00'), 1).at)).toBe(
      '2025-09-19 10:00',
    );
  });

  it('when working days are counted back across 国庆 2025, then the holiday is skipped and the make-up Sunday 09-28 counts', () => {
    // 10-09 (Thu) is the first working day after 10-01 … 10-08; 09-30 and the make-up 09-28 before.
    expect(beijingText(subtractWorkingDays(calendar, bj('2025-10-09 10:00'), 1).at)).toBe(
      '2025-09-30 10:00',
    );
    expect(beijingText(subtractWorkingDays(calendar, bj('2025-10-09 10:00'), 3).at)).toBe(
      '2025-09-28 10:00',
    );
  });

  it('when the deadline itself is outside working time, then counting starts at the last close before it', () => {
    // Saturday 09-20 at 10:00 (calendar-time deadline): the last working moment is Friday 17:30.
    expect(beijingText(subtractWorkingDays(calendar, bj('2025-09-20 10:00'), 1).at)).toBe(
      '2025-09-18 17:30',
    );
    expect(beijingText(subtractWorkingMinutes(calendar, bj('2025-09-20 10:00'), 60).at)).toBe(
      '2025-09-19 16:30',
    );
  });

  it('when 2 working hours are counted back from 14:00, then the lunch break is skipped', () => {
    // 13:30–14:00 is half an hour; the other 1.5 hours end the morning window: 10:30.
    expect(beijingText(subtractWorkingMinutes(calendar, bj('2025-09-23 14:00'), 120).at)).toBe(
      '2025-09-23 10:30',
    );
    // From the opening at 09:00, one working hour back is 16:30 the working day before.
    expect(beijingText(subtractWorkingMinutes(calendar, bj('2025-09-23 09:00'), 60).at)).toBe(
      '2025-09-22 16:30',
    );
  });

  it('when working minutes are counted back from a deadline, then the working time between is what was asked for, and it never lands outside working time', () => {
    const instant = fc
      .integer({ min: bj('2024-01-10 00:00').getTime(), max: bj('2026-11-30 00:00').getTime() })
      .map((ms) => new Date(ms));
    fc.assert(
      fc.property(instant, fc.integer({ min: 1, max: 6000 }), (start, m) => {
        // A real deadline: a working moment or a window's close.
        const deadline = addWorkingMinutes(calendar, start, 30).at;
        const { at } = subtractWorkingMinutes(calendar, deadline, m);
        expect(workingMinutesBetween(calendar, at, deadline)).toBe(m);
        expect(isValidDeadline(calendar, at)).toBe(true);
      }),
    );
  });

  it('when working days are counted back and forth again, then the deadline comes back', () => {
    const instant = fc
      .integer({ min: bj('2024-01-10 00:00').getTime(), max: bj('2026-11-30 00:00').getTime() })
      .map((ms) => new Date(ms));
    fc.assert(
      fc.property(instant, fc.integer({ min: 0, max: 40 }), (start, d) => {
        const deadline = addWorkingDays(calendar, start, 5).at;
        const back = subtractWorkingDays(calendar, deadline, d).at;
        expect(isWorkingMoment(calendar, back)).toBe(true);
        expect(addWorkingDays(calendar, back, d).at.getTime()).toBe(deadline.getTime());
      }),
    );
  });
});
