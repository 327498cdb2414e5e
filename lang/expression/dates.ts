import { BEIJING_ISO_OFFSET, BEIJING_OFFSET_MS } from '../beijing';
/**
 * Dates (日期) for the functions `date`, `year`, `addDays` and `addMonths`: pure calendar arithmetic on
 * ISO 8601 text, with no clock: the same case always gives the same dates. A date is
 * `YYYY-MM-DD`; an instant carries its offset. Calendar days are Beijing days (UTC+8, no
 * daylight saving), as everywhere in the engine.
 */

import type { Fail } from './values';
import { describe } from './values';

const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT_TEXT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const DAY_MS = 24 * 3600_000;

/** A date or an instant as a Beijing calendar date plus, for an instant, its time of day. */
export function localDate(
  value: unknown,
  name: string,
  fail: Fail,
): { day: number; timeOfDayMs: number | null } {
  if (typeof value === 'string') {
    const date = DATE_TEXT.exec(value);
    if (date) {
      const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
      if (month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)) {
        return { day: dayNumber(year, month, day), timeOfDayMs: null };
      }
    } else if (INSTANT_TEXT.test(value)) {
      // Date.parse reads the text; it never looks at the clock.
      const at = Date.parse(value);
      if (!Number.isNaN(at)) {
        const local = at + BEIJING_OFFSET_MS;
        const timeOfDayMs = ((local % DAY_MS) + DAY_MS) % DAY_MS;
        return { day: (local - timeOfDayMs) / DAY_MS, timeOfDayMs };
      }
    }
  }
  return fail(
    `${name}() needs a date (2026-05-01) or an instant with its offset (2026-05-01T09:00:00+08:00), got ${describe(value)}`,
  );
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (March-based years: leap day last). */
function dayNumber(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The date of a day number (the inverse of {@link dayNumber}). */
function dateOfDay(dayNo: number): [number, number, number] {
  const z = dayNo + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The calendar year of a day number (`year(x)`: 项目年度, the year a round fired in). */
export function yearOfDay(dayNo: number): number {
  return dateOfDay(dayNo)[0];
}

export function dateText(dayNo: number): string {
  const [year, month, day] = dateOfDay(dayNo);
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/**
 * `addDays(x, n)` / `addMonths(x, n)`: a date gives a date; an instant gives the instant at the
 * same Beijing time of day, written with +08:00. A month step keeps the day of the month, or the
 * month's last day when it has fewer (2026-01-31 plus one month is 2026-02-28). Null gives null.
 */
export function shiftDate(value: unknown, amount: unknown, name: string, fail: Fail): unknown {
  if (value === null || value === undefined) return null;
  if (typeof amount !== 'number' || !Number.isInteger(amount) || Math.abs(amount) > 10_000) {
    return fail(
      `${name}() needs a whole number from -10000 to 10000 as its second argument, got ${describe(amount)}`,
    );
  }
  const { day, timeOfDayMs } = localDate(value, name, fail);
  let shifted: number;
  if (name === 'addDays') {
    shifted = day + amount;
  } else {
    const [year, month, dayOfMonth] = dateOfDay(day);
    const months = year * 12 + (month - 1) + amount;
    const [y, m] = [Math.floor(months / 12), (months % 12) + 1];
    shifted = dayNumber(y, m, Math.min(dayOfMonth, daysInMonth(y, m)));
  }
  if (timeOfDayMs === null) return dateText(shifted);
  const seconds = Math.floor(timeOfDayMs / 1000);
  const time = `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
  return `${dateText(shifted)}T${time}${BEIJING_ISO_OFFSET}`;
}
