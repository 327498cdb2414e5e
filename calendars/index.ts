import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { CalendarYear, WorkingCalendar, WorkingWindow } from '../common/working-calendar';
import { createWorkingCalendar } from '../common/working-calendar';

/**
 * China's statutory holidays and 调休 make-up working days, one file per year, in the format of
 * NateScarlet/holiday-cn (MIT, see cn/LICENSE). Each year cites the State Council notice it was
 * read from (`papers`). Years not shipped here (2027 until its notice) are added by admins.
 */
const holidayYearSchema = z.object({
  year: z.number().int().min(2000).max(2100),
  papers: z.array(z.string()).default([]),
  days: z.array(
    z.object({
      name: z.string().min(1),
      date: z.iso.date(),
      isOffDay: z.boolean(),
    }),
  ),
});

export type HolidayYearFile = z.infer<typeof holidayYearSchema>;

/** Validates one holiday-cn year file; throws naming the source and the bad field. */
export function readHolidayYear(raw: unknown, source = 'calendar year'): HolidayYearFile {
  const parsed = holidayYearSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`${source}: ${problems}`);
  }
  const stray = parsed.data.days.find((d) => !d.date.startsWith(`${parsed.data.year}-`));
  if (stray) throw new Error(`${source}: ${stray.date} is not in ${parsed.data.year}`);
  return parsed.data;
}

/** The calendar's exceptions for one year file. */
export function toCalendarYear(file: HolidayYearFile): CalendarYear {
  return {
    year: file.year,
    offDays: file.days.filter((d) => d.isOffDay).map((d) => d.date),
    workDays: file.days.filter((d) => !d.isOffDay).map((d) => d.date),
  };
}

/** Converts one holiday-cn year into the calendar's exceptions; throws naming what is wrong. */
export function parseHolidayYear(raw: unknown, source = 'calendar year'): CalendarYear {
  return toCalendarYear(readHolidayYear(raw, source));
}

/** The calendar the SLA clocks compute with, from the stored years and the office hours. */
export function workingCalendarOf(
  years: ReadonlyArray<{ year: number; papers: string[]; days: unknown[] }>,
  windows?: readonly WorkingWindow[],
  options: { everyDay?: boolean } = {},
): WorkingCalendar {
  return createWorkingCalendar(
    years.map((y) => parseHolidayYear(y, `calendar year ${y.year}`)),
    windows,
    options,
  );
}

export const SHIPPED_CALENDAR_DIR = path.join(__dirname, 'cn');

/** The year files shipped with the product (2024–2026), validated. */
export function loadShippedHolidayYears(dir: string = SHIPPED_CALENDAR_DIR): HolidayYearFile[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}\.json$/.test(f))
    .sort()
    .map((f) => readHolidayYear(JSON.parse(readFileSync(path.join(dir, f), 'utf8')), f));
}

/** The shipped years as calendar exceptions. */
export function loadShippedCalendarYears(dir: string = SHIPPED_CALENDAR_DIR): CalendarYear[] {
  return loadShippedHolidayYears(dir).map(toCalendarYear);
}
