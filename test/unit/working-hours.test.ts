import { loadShippedCalendarYears } from '../../calendars';
import {
  createWorkingCalendar,
  addWorkingDays,
  addWorkingMinutes,
} from '../../common/working-calendar';
import { windowsInMinutes } from '../../common/working-hours';

/** Per-unit working hours over China's shipped calendar, Beijing time. */
const years = loadShippedCalendarYears();
const beijing = (local: string) => new Date(`${local}+08:00`);
const local = (at: Date) => new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 16);

/** Binzhou's evening service (晚间四小时): 18:00–22:00. */
const evening = windowsInMinutes([{ start: '18:00', end: '22:00' }]);

describe('working time in a unit’s own hours', () => {
  it('when a unit serves 18:00–22:00 on working days, then two working hours from Monday morning end Monday at 20:00', () => {
    const calendar = createWorkingCalendar(years, evening);

    expect(local(addWorkingMinutes(calendar, beijing('2026-12-07T10:00'), 120).at)).toBe(
      '2026-12-07T20:00',
    );
  });

  it('when two evening hours start on Friday at 21:00, then they end on Monday at 19:00, or on Saturday for a station open every day', () => {
    const office = createWorkingCalendar(years, evening);
    const station = createWorkingCalendar(years, evening, { everyDay: true });

    expect(local(addWorkingMinutes(office, beijing('2026-12-11T21:00'), 120).at)).toBe(
      '2026-12-14T19:00',
    );
    expect(local(addWorkingMinutes(station, beijing('2026-12-11T21:00'), 120).at)).toBe(
      '2026-12-12T19:00',
    );
  });

  it('when a station open every day counts working days over National Day, then holidays count as working days', () => {
    const office = createWorkingCalendar(years);
    const station = createWorkingCalendar(years, undefined, { everyDay: true });

    // Wednesday 30 September 2026 at 10:00, plus two working days.
    expect(local(addWorkingDays(office, beijing('2026-09-30T10:00'), 2).at)).toBe(
      '2026-10-09T10:00',
    );
    expect(local(addWorkingDays(station, beijing('2026-09-30T10:00'), 2).at)).toBe(
      '2026-10-02T10:00',
    );
  });
});
