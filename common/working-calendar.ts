/**
 * Working time in China: which moments are working moments, and deadlines counted in working
 * days (工作日) or working minutes. Pure and deterministic (no clock, no I/O): the SLA activities
 * compute absolute deadlines with it, and it is tested with generated inputs.
 *
 * All local times are Beijing time (UTC+8, no daylight saving), so local dates and times are
 * derived by shifting the instant by eight hours.
 */

import { BEIJING_OFFSET_MS } from '../lang/beijing';

const DAY_MS = 24 * 3600_000;
const MINUTE_MS = 60_000;

/** A working window of a day, in minutes after local midnight, `[start, end)`. */
export interface WorkingWindow {
  start: number;
  end: number;
}

/**
 * One year of exceptions to the normal week (Monday–Friday): statutory days off that fall on
 * weekdays, and 调休 make-up working days that fall on weekends, as State Council notices set.
 */
export interface CalendarYear {
  year: number;
  offDays: readonly string[];
  workDays: readonly string[];
}

export interface WorkingCalendar {
  windows: readonly WorkingWindow[];
  years: ReadonlyMap<number, { off: ReadonlySet<string>; work: ReadonlySet<string> }>;
  /**
   * Every day is a working day, weekends and holidays too: a station open 365 days a year
   * (365天不打烊). Absent: Monday–Friday with the calendar's holidays and 调休.
   */
  everyDay?: boolean;
}

/** 上午 9:00–12:00, 下午 13:30–17:30: the usual hours of street and community offices. */
export const DEFAULT_WINDOWS: readonly WorkingWindow[] = [
  { start: 9 * 60, end: 12 * 60 },
  { start: 13 * 60 + 30, end: 17 * 60 + 30 },
];

export class CalendarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CalendarError';
  }
}

export function createWorkingCalendar(
  years: readonly CalendarYear[],
  windows: readonly WorkingWindow[] = DEFAULT_WINDOWS,
  options: { everyDay?: boolean } = {},
): WorkingCalendar {
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  sorted.forEach((w, i) => {
    const previous = sorted[i - 1];
    if (!(
      Number.isInteger(w.start) &&
      Number.isInteger(w.end) &&
      w.start >= 0 &&
      w.end <= 1440 &&
      w.start < w.end
    )) {
      throw new CalendarError(`working window ${w.start}–${w.end} is not within one day`);
    }
    if (previous && previous.end > w.start) throw new CalendarError('working windows overlap');
  });
  if (sorted.length === 0) throw new CalendarError('a calendar needs at least one working window');
  const byYear = new Map<number, { off: ReadonlySet<string>; work: ReadonlySet<string> }>();
  for (const year of years) {
    for (const date of [...year.offDays, ...year.workDays]) {
      if (!date.startsWith(`${year.year}-`)) {
        throw new CalendarError(`${date} is listed under ${year.year}`);
      }
    }
    byYear.set(year.year, { off: new Set(year.offDays), work: new Set(year.workDays) });
  }
  return { windows: sorted, years: byYear, ...(options.everyDay ? { everyDay: true } : {}) };
}

/** The result of a deadline computation and the years it had to assume a normal week for. */
export interface Deadline {
  at: Date;
  /** Years not (yet) in the calendar, e.g. next year before its notice: recompute once added. */
  assumedYears: number[];
}

/** Local (Beijing) date of an instant as `YYYY-MM-DD`, and minutes after local midnight. */
function local(instant: number): { day: number; date: string; minute: number; weekday: number } {
  const shifted = instant + BEIJING_OFFSET_MS;
  const day = Math.floor(shifted / DAY_MS);
  const d = new Date(day * DAY_MS);
  return {
    day,
    date: d.toISOString().slice(0, 10),
    minute: Math.floor((shifted - day * DAY_MS) / MINUTE_MS),
    weekday: d.getUTCDay(),
  };
}

/** The instant of minute `minute` of local day number `day` (days since 1970-01-01, local). */
function instantOf(day: number, minute: number): number {
  return day * DAY_MS + minute * MINUTE_MS - BEIJING_OFFSET_MS;
}

class DayOracle {
  readonly assumed = new Set<number>();
  constructor(private readonly calendar: WorkingCalendar) {}

  isWorkingDay(day: number): boolean {
    if (this.calendar.everyDay) return true;
    const { date, weekday } = local(instantOf(day, 12 * 60));
    const year = Number(date.slice(0, 4));
    const exceptions = this.calendar.years.get(year);
    if (!exceptions) {
      this.assumed.add(year);
    } else {
      if (exceptions.work.has(date)) return true;
      if (exceptions.off.has(date)) return false;
    }
    return weekday !== 0 && weekday !== 6;
  }
}

/** Gives up on inputs that would scan for years (a calendar whose every day is off, say). */
const MAX_SCAN_DAYS = 3 * 366;

/**
 * The first working moment at or after `instant`: the instant itself when it lies inside a
 * working window of a working day, otherwise the start of the next window.
 */
function nextWorkingMoment(calendar: WorkingCalendar, oracle: DayOracle, instant: number): number {
  const start = local(instant);
  for (let day = start.day; day <= start.day + MAX_SCAN_DAYS; day++) {
    if (!oracle.isWorkingDay(day)) continue;
    for (const w of calendar.windows) {
      const from = day === start.day ? Math.max(w.start, start.minute) : w.start;
      if (from < w.end) {
        // Inside the window keep the exact instant (seconds included), else its start.
        return day === start.day && start.minute >= w.start ? instant : instantOf(day, from);
      }
    }
  }
  throw new CalendarError('no working day within three years');
}

/**
 * `start` plus `minutes` of working time (8 working hours = 480). The deadline lies inside a
 * working window or at its closing minute, never at night, on a weekend or on a holiday.
 */
export function addWorkingMinutes(
  calendar: WorkingCalendar,
  start: Date,
  minutes: number,
): Deadline {
  if (!Number.isInteger(minutes) || minutes < 0) {
    throw new CalendarError(`working minutes must be a whole non-negative number, not ${minutes}`);
  }
  const oracle = new DayOracle(calendar);
  let cursor = nextWorkingMoment(calendar, oracle, start.getTime());
  let remainingMs = minutes * MINUTE_MS;
  for (let guard = 0; ; guard++) {
    if (guard > MAX_SCAN_DAYS * calendar.windows.length)
      throw new CalendarError('deadline too far');
    const here = local(cursor);
    const window = calendar.windows.find((w) => here.minute >= w.start && here.minute < w.end)!;
    const windowEnd = instantOf(here.day, window.end);
    if (cursor + remainingMs <= windowEnd) {
      return { at: new Date(cursor + remainingMs), assumedYears: [...oracle.assumed].sort() };
    }
    remainingMs -= windowEnd - cursor;
    cursor = nextWorkingMoment(calendar, oracle, windowEnd);
  }
}

/**
 * `start` plus `days` working days: the same time of day on the `days`-th working day after the
 * start's. A start outside working time counts from the next working moment, so "1 working day"
 * from Friday evening is Tuesday at opening time, and the deadline is always a working moment.
 */
export function addWorkingDays(calendar: WorkingCalendar, start: Date, days: number): Deadline {
  if (!Number.isInteger(days) || days < 0) {
    throw new CalendarError(`working days must be a whole non-negative number, not ${days}`);
  }
  const oracle = new DayOracle(calendar);
  const from = nextWorkingMoment(calendar, oracle, start.getTime());
  const here = local(from);
  let day = here.day;
  for (let counted = 0; counted < days;) {
    day++;
    if (day - here.day > MAX_SCAN_DAYS) throw new CalendarError('deadline too far');
    if (oracle.isWorkingDay(day)) counted++;
  }
  const msIntoDay = from - instantOf(here.day, 0);
  return { at: new Date(instantOf(day, 0) + msIntoDay), assumedYears: [...oracle.assumed].sort() };
}

/**
 * The last working moment at or before `instant`: the instant itself inside a working window of a
 * working day (or at a window's closing minute), otherwise the close of the window before it.
 */
function previousWorkingMoment(
  calendar: WorkingCalendar,
  oracle: DayOracle,
  instant: number,
): number {
  const start = local(instant);
  for (let day = start.day; day >= start.day - MAX_SCAN_DAYS; day--) {
    if (!oracle.isWorkingDay(day)) continue;
    for (const w of [...calendar.windows].reverse()) {
      if (day < start.day || start.minute >= w.end) return instantOf(day, w.end);
      if (start.minute >= w.start) return instant;
    }
  }
  throw new CalendarError('no working day within three years');
}

/**
 * `end` minus `minutes` of working time: a reminder "2 working hours before" a deadline. Counted
 * back from the last working moment at or before `end`, through working windows only, so the
 * answer is a working moment (or a window's opening) and never at night or on a holiday.
 */
export function subtractWorkingMinutes(
  calendar: WorkingCalendar,
  end: Date,
  minutes: number,
): Deadline {
  if (!Number.isInteger(minutes) || minutes < 0) {
    throw new CalendarError(`working minutes must be a whole non-negative number, not ${minutes}`);
  }
  const oracle = new DayOracle(calendar);
  let cursor = previousWorkingMoment(calendar, oracle, end.getTime());
  let remainingMs = minutes * MINUTE_MS;
  for (let guard = 0; ; guard++) {
    if (guard > MAX_SCAN_DAYS * calendar.windows.length) {
      throw new CalendarError('reminder too far');
    }
    const dayStart = instantOf(local(cursor).day, 0);
    const msIntoDay = cursor - dayStart;
    // The window whose working time lies just before the cursor (none at an opening instant).
    const window = calendar.windows.find(
      (w) => msIntoDay > w.start * MINUTE_MS && msIntoDay <= w.end * MINUTE_MS,
    );
    const windowStart = window !== undefined ? dayStart + window.start * MINUTE_MS : cursor;
    if (cursor - remainingMs >= windowStart) {
      return { at: new Date(cursor - remainingMs), assumedYears: [...oracle.assumed].sort() };
    }
    remainingMs -= cursor - windowStart;
    // Adjacent windows: the instant before an opening is inside the window that closes there.
    const previous = previousWorkingMoment(calendar, oracle, windowStart - 1);
    cursor = previous === windowStart - 1 ? windowStart : previous;
  }
}

/**
 * `end` minus `days` working days: the same time of day on the `days`-th working day before the
 * last working moment at or before `end` (a reminder "1 working day before" a Tuesday 17:30
 * deadline comes on Monday at 17:30; before a Monday 10:00 one, on the Friday before at 10:00).
 */
export function subtractWorkingDays(calendar: WorkingCalendar, end: Date, days: number): Deadline {
  if (!Number.isInteger(days) || days < 0) {
    throw new CalendarError(`working days must be a whole non-negative number, not ${days}`);
  }
  const oracle = new DayOracle(calendar);
  const from = previousWorkingMoment(calendar, oracle, end.getTime());
  const here = local(from);
  let day = here.day;
  for (let counted = 0; counted < days;) {
    day--;
    if (here.day - day > MAX_SCAN_DAYS) throw new CalendarError('reminder too far');
    if (oracle.isWorkingDay(day)) counted++;
  }
  const msIntoDay = from - instantOf(here.day, 0);
  return { at: new Date(instantOf(day, 0) + msIntoDay), assumedYears: [...oracle.assumed].sort() };
}

/** Working minutes between two instants (0 when `to` is not after `from`). */
export function workingMinutesBetween(calendar: WorkingCalendar, from: Date, to: Date): number {
  const oracle = new DayOracle(calendar);
  let total = 0;
  let cursor = nextWorkingMoment(calendar, oracle, from.getTime());
  const end = to.getTime();
  while (cursor < end) {
    const here = local(cursor);
    const window = calendar.windows.find((w) => here.minute >= w.start && here.minute < w.end)!;
    const windowEnd = instantOf(here.day, window.end);
    total += Math.min(windowEnd, end) - cursor;
    cursor = nextWorkingMoment(calendar, oracle, windowEnd);
  }
  return total / MINUTE_MS;
}

/** Whether an instant is a working moment (inside a window of a working day). */
export function isWorkingMoment(calendar: WorkingCalendar, instant: Date): boolean {
  const oracle = new DayOracle(calendar);
  return nextWorkingMoment(calendar, oracle, instant.getTime()) === instant.getTime();
}

/**
 * Whether a deadline is acceptable: a working moment, or the closing minute of a window of a
 * working day (a deadline "by 17:30").
 */
export function isValidDeadline(calendar: WorkingCalendar, instant: Date): boolean {
  if (isWorkingMoment(calendar, instant)) return true;
  const here = local(instant.getTime());
  const oracle = new DayOracle(calendar);
  const atClose =
    calendar.windows.some((w) => w.end === here.minute) && instant.getTime() % MINUTE_MS === 0;
  return atClose && oracle.isWorkingDay(here.day);
}
