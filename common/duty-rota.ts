import { BEIJING_OFFSET_MS } from '../lang/beijing';
import type { WorkingCalendar } from './working-calendar';

/**
 * Duty rotas (值班表): who is on duty in a unit at a moment. A 365-day station (365天不打烊) or an
 * evening service window (Binzhou's 晚间四小时, ../shared/seeds/002) rosters people by shifts
 * instead of office hours; a definition reaches them with the selector `onDuty: <unit>`. Pure
 * and deterministic: the lookup activity gives the moment, the unit's rota and the calendar.
 *
 * All days and times are Beijing time (UTC+8, no daylight saving, lang/beijing.ts).
 */

/** The weekday tokens of a shift's `on`, Monday first. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/**
 * Days a shift runs on: a weekday; `workdays` (working days of the calendar, 调休 make-up days
 * included); `restdays` (every other day: weekends not made up, statutory holidays);
 * `holidays` (statutory days off only, calendars/); or one date `YYYY-MM-DD`.
 */
export type ShiftDay = string;

export interface DutyShift {
  on: readonly ShiftDay[];
  /** `HH:MM`, Beijing time. */
  start: string;
  /**
   * `HH:MM`: at or before `start`, the shift ends on the next day (a night shift belongs to the
   * day it starts); equal to `start`, it lasts 24 hours.
   */
  end: string;
  /** People rostered by id. */
  people: readonly string[];
  /** Posts rostered: whoever holds these roles in the rota's unit. */
  roles: readonly string[];
}

export interface DutyRota {
  unitId: string;
  shifts: readonly DutyShift[];
}

/** Someone on duty: a person by id, or a role whose holders in the unit are on duty. */
export type OnDuty = { personId: string } | { role: string };

const DAY_MS = 24 * 3_600_000;
const MINUTE_MS = 60_000;
const TIME = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;
const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/;

/** `HH:MM` as minutes after midnight, or null when it is not a time of day. */
export function minuteOfDay(time: string): number | null {
  const match = TIME.exec(time);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

/** Whether `token` is a day a shift may run on (see {@link ShiftDay}). */
export function isShiftDay(token: string): boolean {
  if ((WEEKDAYS as readonly string[]).includes(token)) return true;
  if (token === 'workdays' || token === 'restdays' || token === 'holidays') return true;
  return DATE.test(token) && !Number.isNaN(Date.parse(`${token}T00:00:00Z`));
}

/** The Beijing day of an instant: its day number, date and weekday token. */
function beijingDay(instant: number): { day: number; minute: number } {
  const shifted = instant + BEIJING_OFFSET_MS;
  const day = Math.floor(shifted / DAY_MS);
  return { day, minute: Math.floor((shifted - day * DAY_MS) / MINUTE_MS) };
}

function dateOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Monday 0 … Sunday 6 (1970-01-01 was a Thursday). */
function weekdayOf(day: number): (typeof WEEKDAYS)[number] {
  return WEEKDAYS[(((day + 3) % 7) + 7) % 7]!;
}

/**
 * Whether the calendar makes `date` a working day. A year the calendar lacks counts as a normal
 * week (Monday–Friday), as the working-time clocks count it.
 */
function isWorkingDate(calendar: WorkingCalendar, day: number): boolean {
  const date = dateOf(day);
  const exceptions = calendar.years.get(Number(date.slice(0, 4)));
  if (exceptions?.work.has(date)) return true;
  if (exceptions?.off.has(date)) return false;
  const weekday = weekdayOf(day);
  return weekday !== 'sat' && weekday !== 'sun';
}

function runsOn(shift: DutyShift, day: number, calendar: WorkingCalendar): boolean {
  const date = dateOf(day);
  return shift.on.some((token) => {
    if (token === date) return true;
    if (token === weekdayOf(day)) return true;
    if (token === 'workdays') return isWorkingDate(calendar, day);
    if (token === 'restdays') return !isWorkingDate(calendar, day);
    if (token === 'holidays') {
      return calendar.years.get(Number(date.slice(0, 4)))?.off.has(date) ?? false;
    }
    return false;
  });
}

/**
 * The shifts of a rota running at `instant`: a shift started today that has not ended, or one
 * started yesterday that crosses midnight and has not ended yet. A shift runs `[start, end)`.
 */
export function shiftsAt(rota: DutyRota, instant: number, calendar: WorkingCalendar): DutyShift[] {
  const { day, minute } = beijingDay(instant);
  return rota.shifts.filter((shift) => {
    const start = minuteOfDay(shift.start);
    const end = minuteOfDay(shift.end);
    if (start === null || end === null) return false;
    const crossesMidnight = end <= start;
    if (runsOn(shift, day, calendar) && minute >= start && (crossesMidnight || minute < end)) {
      return true;
    }
    return crossesMidnight && minute < end && runsOn(shift, day - 1, calendar);
  });
}

/**
 * Who is on duty at `instant`: the people and roles of every running shift, each once, people
 * first in the order the rota names them, then roles. Empty when nobody is rostered then.
 */
export function onDutyAt(rota: DutyRota, instant: number, calendar: WorkingCalendar): OnDuty[] {
  const people = new Set<string>();
  const roles = new Set<string>();
  for (const shift of shiftsAt(rota, instant, calendar)) {
    for (const person of shift.people) people.add(person);
    for (const role of shift.roles) roles.add(role);
  }
  return [
    ...[...people].map((personId) => ({ personId })),
    ...[...roles].map((role) => ({ role })),
  ];
}
