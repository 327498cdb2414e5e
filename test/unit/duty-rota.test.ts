import { loadShippedCalendarYears } from '../../calendars';
import type { DutyRota, DutyShift } from '../../common/duty-rota';
import { onDutyAt, shiftsAt } from '../../common/duty-rota';
import { createWorkingCalendar } from '../../common/working-calendar';

/** Shifts in Beijing time over China's shipped calendar (2026: 国庆 1–7 October, 调休 10 October). */
const calendar = createWorkingCalendar(loadShippedCalendarYears());

/** An instant written in Beijing time. */
const beijing = (local: string) => Date.parse(`${local}+08:00`);

const shift = (overrides: Partial<DutyShift>): DutyShift => ({
  on: ['mon'],
  start: '09:00',
  end: '17:00',
  people: ['p-duty'],
  roles: [],
  ...overrides,
});

const rotaOf = (...shifts: DutyShift[]): DutyRota => ({ unitId: 'station', shifts });

const onDuty = (rota: DutyRota, local: string) =>
  onDutyAt(rota, beijing(local), calendar).map((e) => ('personId' in e ? e.personId : e.role));

describe('who a duty rota has on duty', () => {
  it('when an evening window (晚间四小时) runs 18:00–22:00 on working days, then it covers 18:00 up to but not including 22:00', () => {
    const rota = rotaOf(shift({ on: ['workdays'], start: '18:00', end: '22:00' }));

    expect(onDuty(rota, '2026-12-07T17:59:00')).toEqual([]);
    expect(onDuty(rota, '2026-12-07T18:00:00')).toEqual(['p-duty']);
    expect(onDuty(rota, '2026-12-07T21:59:00')).toEqual(['p-duty']);
    expect(onDuty(rota, '2026-12-07T22:00:00')).toEqual([]);
  });

  it('when a night shift starts on Friday at 22:00 and ends at 08:00, then it covers early Saturday and not early Friday', () => {
    const rota = rotaOf(shift({ on: ['fri'], start: '22:00', end: '08:00' }));

    expect(onDuty(rota, '2026-12-11T23:30:00')).toEqual(['p-duty']); // Friday night
    expect(onDuty(rota, '2026-12-12T03:00:00')).toEqual(['p-duty']); // Saturday small hours
    expect(onDuty(rota, '2026-12-12T08:00:00')).toEqual([]); // ended
    expect(onDuty(rota, '2026-12-11T03:00:00')).toEqual([]); // Thursday's night: not rostered
  });

  it('when a Sunday night shift crosses into Monday, then it covers Monday morning across the week boundary', () => {
    const rota = rotaOf(shift({ on: ['sun'], start: '20:00', end: '06:00' }));

    expect(onDuty(rota, '2026-12-14T05:59:00')).toEqual(['p-duty']); // Monday
    expect(onDuty(rota, '2026-12-14T06:00:00')).toEqual([]);
    expect(onDuty(rota, '2026-12-13T19:59:00')).toEqual([]); // Sunday before the start
  });

  it('when the moment is late Monday in UTC but Tuesday in Beijing, then Tuesday’s shift answers', () => {
    const rota = rotaOf(
      shift({ on: ['mon'], start: '09:00', end: '17:00', people: ['p-monday'] }),
      shift({ on: ['tue'], start: '00:00', end: '08:00', people: ['p-tuesday'] }),
    );

    // 2026-12-07T16:30Z is 00:30 on Tuesday 8 December in Beijing.
    expect(onDutyAt(rota, Date.parse('2026-12-07T16:30:00Z'), calendar)).toEqual([
      { personId: 'p-tuesday' },
    ]);
  });

  it('when National Day falls on a Thursday, then workday shifts pause, holiday and rest-day shifts run, and the 调休 Saturday is a workday', () => {
    const rota = rotaOf(
      shift({ on: ['workdays'], start: '09:00', end: '17:00', people: ['p-office'] }),
      shift({ on: ['holidays'], start: '09:00', end: '17:00', people: ['p-holiday'] }),
      shift({ on: ['restdays'], start: '09:00', end: '17:00', people: ['p-rest'] }),
    );

    expect(onDuty(rota, '2026-10-01T10:00:00')).toEqual(['p-holiday', 'p-rest']); // Thursday, 国庆
    expect(onDuty(rota, '2026-10-10T10:00:00')).toEqual(['p-office']); // Saturday, made up
    expect(onDuty(rota, '2026-10-17T10:00:00')).toEqual(['p-rest']); // an ordinary Saturday
    expect(onDuty(rota, '2026-10-12T10:00:00')).toEqual(['p-office']); // an ordinary Monday
  });

  it('when a dated 24-hour shift is rostered on New Year’s Eve, then it runs until the same time next day, into a year the calendar lacks', () => {
    const rota = rotaOf(shift({ on: ['2026-12-31'], start: '20:00', end: '20:00' }));

    expect(onDuty(rota, '2026-12-31T19:59:00')).toEqual([]);
    expect(onDuty(rota, '2026-12-31T20:00:00')).toEqual(['p-duty']);
    expect(onDuty(rota, '2027-01-01T19:59:00')).toEqual(['p-duty']);
    expect(onDuty(rota, '2027-01-01T20:00:00')).toEqual([]);
  });

  it('when shifts overlap, then each person and role is on duty once, people before roles', () => {
    const rota = rotaOf(
      shift({ on: ['mon'], start: '08:00', end: '20:00', people: ['p-a', 'p-b'], roles: ['duty'] }),
      shift({
        on: ['workdays'],
        start: '12:00',
        end: '13:00',
        people: ['p-b', 'p-c'],
        roles: ['duty'],
      }),
    );

    expect(shiftsAt(rota, beijing('2026-12-07T12:30:00'), calendar)).toHaveLength(2);
    expect(onDuty(rota, '2026-12-07T12:30:00')).toEqual(['p-a', 'p-b', 'p-c', 'duty']);
  });
});
