import type { Lang, Translate } from './i18n';

/**
 * The working-day calendar as admins read and write it: a year as twelve month grids (days off,
 * 调休 make-up working days and weekends each with its own marker), and a year's exceptions as
 * lines of text, `2026-10-01..2026-10-08 休 国庆节`, or a holiday-cn JSON file, read back into
 * the days the CalendarService stores. Pure: no I/O, no clock.
 */

export interface CalendarDay {
  date: string;
  name: string;
  isOffDay: boolean;
}

export type DayKind = 'off' | 'work' | 'weekend' | 'workday';

export interface DayCell {
  day: number;
  date: string;
  kind: DayKind;
  /** The marker letter of the kind (休, 班, 末), empty on an ordinary working day. */
  marker: string;
  /** What the day is, in words: the holiday's name and the kind. */
  label: string;
  today: boolean;
}

export interface MonthGrid {
  month: number;
  name: string;
  /** Weeks from Monday; days of other months are null. */
  weeks: Array<Array<DayCell | null>>;
}

const DAY_MS = 86_400_000;

/** Whether `YYYY-MM-DD` is a real date (no 2026-02-30). */
export function isRealDate(date: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return false;
  const at = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return at.toISOString().slice(0, 10) === date;
}

function utcOf(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

function dateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** 1 (Monday) … 7 (Sunday). */
function isoWeekday(ms: number): number {
  return ((new Date(ms).getUTCDay() + 6) % 7) + 1;
}

export function dayKindLabel(t: Translate, kind: DayKind): string {
  return t(`admin.cal.kind.${kind}`);
}

export function markerOf(t: Translate, kind: DayKind): string {
  return kind === 'workday' ? '' : t(`admin.cal.mark.${kind}`);
}

/** Twelve month grids of a year, each day marked by what the calendar makes of it. */
export function monthGrids(
  year: number,
  days: readonly CalendarDay[],
  options: { t: Translate; lang: Lang; today: string },
): MonthGrid[] {
  const { t } = options;
  const listed = new Map(days.map((d) => [d.date, d]));
  const monthName = new Intl.DateTimeFormat(options.lang, { month: 'long', timeZone: 'UTC' });
  return Array.from({ length: 12 }, (_, m) => {
    const first = Date.UTC(year, m, 1);
    const length = new Date(Date.UTC(year, m + 1, 0)).getUTCDate();
    const weeks: Array<Array<DayCell | null>> = [];
    let week: Array<DayCell | null> = Array.from({ length: isoWeekday(first) - 1 }, () => null);
    for (let day = 1; day <= length; day++) {
      const at = first + (day - 1) * DAY_MS;
      const date = dateOf(at);
      const entry = listed.get(date);
      const weekend = isoWeekday(at) >= 6;
      const kind: DayKind = entry
        ? entry.isOffDay
          ? 'off'
          : 'work'
        : weekend
          ? 'weekend'
          : 'workday';
      const what = dayKindLabel(t, kind);
      week.push({
        day,
        date,
        kind,
        marker: markerOf(t, kind),
        label: entry ? `${date} ${entry.name} · ${what}` : `${date} · ${what}`,
        today: date === options.today,
      });
      if (week.length === 7) {
        weeks.push(week);
        week = [];
      }
    }
    if (week.length > 0) {
      while (week.length < 7) week.push(null);
      weeks.push(week);
    }
    return { month: m + 1, name: monthName.format(new Date(first)), weeks };
  });
}

/** Weekday headers from Monday: short label and full name. */
export function weekdayHeaders(t: Translate): Array<{ short: string; full: string }> {
  return [1, 2, 3, 4, 5, 6, 7].map((d) => ({
    short: t(`admin.cal.wd.${d}`),
    full: t(`admin.cal.wdFull.${d}`),
  }));
}

const OFF_WORDS = ['休', '休息', 'off', 'holiday', 'rest'];
const WORK_WORDS = ['班', '上班', 'work', 'workday', 'makeup', 'make-up'];

/** The most days one line may name (a range): a long holiday, never a year by mistake. */
const MAX_RANGE = 31;

export interface LineProblem {
  /** 1-based line of the text; null for the text as a whole. */
  line: number | null;
  text: string;
  message: string;
}

export interface ParsedYear {
  days: CalendarDay[];
  /** The line each day came from (days of one range share it). */
  lineOfDay: number[];
  papers: string[];
  problems: LineProblem[];
}

/**
 * Reads a year's exceptions: a holiday-cn JSON file (`{ year, papers, days }`), or lines of
 * `date type name` where date may be a range `from..to` (or `from~to`), type is 休/off or
 * 班/work, and `#` starts a comment. Every problem names its line.
 */
export function parseYearText(text: string, year: number, t: Translate): ParsedYear {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return parseHolidayJson(trimmed, year, t);
  const days: CalendarDay[] = [];
  const lineOfDay: number[] = [];
  const problems: LineProblem[] = [];
  const firstLine = new Map<string, number>();
  text.split(/\r\n?|\n/).forEach((raw, i) => {
    const line = i + 1;
    const content = raw.replace(/(^|\s)#.*$/, '').trim();
    if (content === '') return;
    const problem = (message: string) => problems.push({ line, text: raw, message });
    const match =
      /^([^\s,，]+?)(?:\s*(?:\.\.|~|～)\s*([^\s,，]+))?[\s,，]+([^\s,，]+)(?:[\s,，]+(.+))?$/.exec(
        content,
      );
    if (!match) {
      problem(t('admin.cal.lineShape'));
      return;
    }
    const [, from, to, type, rest] = match;
    const name = (rest ?? '').trim();
    const kind = type!.toLowerCase();
    const isOffDay = OFF_WORDS.includes(kind) ? true : WORK_WORDS.includes(kind) ? false : null;
    const checks: string[] = [];
    for (const date of [from!, ...(to ? [to] : [])]) {
      if (!isRealDate(date)) checks.push(t('admin.cal.badDate', { date }));
      else if (!date.startsWith(`${year}-`)) checks.push(t('admin.cal.otherYear', { date, year }));
    }
    if (isOffDay === null) checks.push(t('admin.cal.badType', { type: type! }));
    if (name === '') checks.push(t('admin.cal.noName'));
    else if (name.length > 50) checks.push(t('admin.cal.longName'));
    if (checks.length === 0 && to && utcOf(to) < utcOf(from!)) {
      checks.push(t('admin.cal.backwards'));
    }
    if (checks.length === 0 && to && (utcOf(to) - utcOf(from!)) / DAY_MS >= MAX_RANGE) {
      checks.push(t('admin.cal.longRange', { max: MAX_RANGE }));
    }
    if (checks.length > 0) {
      problem(checks.join('; '));
      return;
    }
    const end = to ? utcOf(to) : utcOf(from!);
    for (let at = utcOf(from!); at <= end; at += DAY_MS) {
      const date = dateOf(at);
      const earlier = firstLine.get(date);
      if (earlier !== undefined) {
        problem(t('admin.cal.twice', { date, line: earlier }));
        continue;
      }
      firstLine.set(date, line);
      days.push({ date, name, isOffDay: isOffDay! });
      lineOfDay.push(line);
    }
  });
  if (days.length > 366) {
    problems.push({ line: null, text: '', message: t('admin.cal.tooMany') });
  }
  return { days, lineOfDay, papers: [], problems };
}

function parseHolidayJson(text: string, year: number, t: Translate): ParsedYear {
  const fail = (message: string): ParsedYear => ({
    days: [],
    lineOfDay: [],
    papers: [],
    problems: [{ line: null, text: '', message }],
  });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return fail(t('admin.cal.badJson', { message: (err as Error).message }));
  }
  const file = raw as { year?: unknown; papers?: unknown; days?: unknown };
  if (file.year !== undefined && file.year !== year) {
    return fail(t('admin.cal.jsonYear', { found: JSON.stringify(file.year), year }));
  }
  if (!Array.isArray(file.days)) return fail(t('admin.cal.jsonShape'));
  // Written back as lines, the days are checked like typed ones (and problems name an item).
  const lines = (file.days as unknown[]).map((d) => {
    const day = d as { date?: unknown; name?: unknown; isOffDay?: unknown };
    const type = day.isOffDay === true ? 'off' : day.isOffDay === false ? 'work' : '?';
    return `${String(day.date)} ${type} ${typeof day.name === 'string' ? day.name : ''}`;
  });
  const parsed = parseYearText(lines.join('\n'), year, t);
  const papers = Array.isArray(file.papers)
    ? file.papers.filter((p): p is string => typeof p === 'string')
    : [];
  return {
    ...parsed,
    papers,
    problems: parsed.problems.map((p) => ({
      ...p,
      message: `${t('admin.cal.jsonItem', { n: p.line ?? 1 })}: ${p.message}`,
      line: null,
    })),
  };
}

/** A year's days as lines an admin edits: runs of one holiday written as ranges. */
export function linesOf(days: readonly CalendarDay[], t: Translate): string {
  const sorted = [...days].sort((a, b) => (a.date < b.date ? -1 : 1));
  const lines: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (
      j + 1 < sorted.length &&
      sorted[j + 1]!.name === sorted[i]!.name &&
      sorted[j + 1]!.isOffDay === sorted[i]!.isOffDay &&
      utcOf(sorted[j + 1]!.date) - utcOf(sorted[j]!.date) === DAY_MS
    ) {
      j++;
    }
    const first = sorted[i]!;
    const range = j > i ? `${first.date}..${sorted[j]!.date}` : first.date;
    const type = t(first.isOffDay ? 'admin.cal.word.off' : 'admin.cal.word.work');
    lines.push(`${range} ${type} ${first.name}`);
    i = j + 1;
  }
  return lines.join('\n');
}

/** Papers (sources) one per line; problems name their line. */
export function parsePapers(
  text: string,
  t: Translate,
): { papers: string[]; problems: LineProblem[] } {
  const papers: string[] = [];
  const problems: LineProblem[] = [];
  text.split(/\r\n?|\n/).forEach((raw, i) => {
    const paper = raw.trim();
    if (paper === '') return;
    if (paper.length > 500)
      problems.push({ line: i + 1, text: raw, message: t('admin.cal.longPaper') });
    else papers.push(paper);
  });
  if (papers.length > 10)
    problems.push({ line: null, text: '', message: t('admin.cal.manyPapers') });
  return { papers, problems };
}

/** From this month (1-12, Beijing time) admins are reminded to enter next year (chosen: November). */
export const NEXT_YEAR_REMINDER_FROM_MONTH = 11;

/**
 * The year admins should enter now: in November and December (Beijing time) the next year, if
 * the calendar lacks it (the State Council publishes the holiday schedule around then); else null.
 */
export function yearToEnter(now: Date, years: readonly number[]): number | null {
  const beijing = new Date(now.getTime() + 8 * 3_600_000);
  if (beijing.getUTCMonth() + 1 < NEXT_YEAR_REMINDER_FROM_MONTH) return null;
  const next = beijing.getUTCFullYear() + 1;
  return years.includes(next) ? null : next;
}
