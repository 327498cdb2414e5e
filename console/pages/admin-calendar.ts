import { AppError } from '../../services/errors';
import type { CalendarYearView } from '../../services/calendar';
import type { LineProblem } from '../admin-calendar-view';
import {
  linesOf,
  markerOf,
  monthGrids,
  parsePapers,
  parseYearText,
  weekdayHeaders,
} from '../admin-calendar-view';
import type { DayKind } from '../admin-calendar-view';
import { formatDate, formatInstant } from '../format';
import type { ConsoleKit } from '../kit';
import type { PageContext, PageResult } from '../pipeline';
import { BASE, doneNotice, field } from '../pipeline';

/** As the API's `:year` (api/routes/calendar.ts). */
const MIN_YEAR = 2000;
const MAX_YEAR = 2100;
const KINDS: readonly DayKind[] = ['off', 'work', 'weekend', 'workday'];
const DONE = ['saved', 'created'] as const;

interface EditState {
  /** The year, or what was typed for it when that is not a year. */
  year: number | string;
  days: string;
  papers: string;
  exists: boolean;
  problems?: LineProblem[];
  /** A refusal that is not about a line (the service's, or the year itself). */
  message?: string;
}

/**
 * The working-day calendar for admins: a year as twelve month grids with its days off, 调休
 * make-up working days and weekends marked (and listed), and a form to add or revise a year,
 * which the CalendarService stores as the API's `PUT /api/v1/calendar/years/:year` does (running
 * cases are told, so their working-time deadlines move).
 */
export function registerCalendarPages({ pages, services }: ConsoleKit): void {
  const calendar = services.calendar;

  pages.add({
    method: 'get',
    path: '/admin/calendar',
    access: ['admin'],
    handle: async (ctx) => {
      const years = await calendar.listYears();
      const today = formatDate(ctx.now);
      const asked = Number.parseInt(ctx.query.year ?? '', 10);
      const thisYear = Number(today.slice(0, 4));
      const shown =
        years.find((y) => y.year === asked) ??
        years.find((y) => y.year === thisYear) ??
        years[years.length - 1] ??
        null;
      // A year the calendar lacks: say so beside the nearest one, and offer to add it.
      const missing =
        Number.isInteger(asked) && asked >= MIN_YEAR && asked <= MAX_YEAR && shown?.year !== asked
          ? { year: asked, href: `${BASE}/admin/calendar/edit?year=${asked}` }
          : null;
      const index = shown ? years.indexOf(shown) : -1;
      return {
        view: 'admin-calendar',
        model: {
          title: shown
            ? ctx.t('admin.cal.titleOf', { year: shown.year })
            : ctx.t('admin.cal.title'),
          years: years.map((y) => ({ year: y.year, selected: y === shown })),
          year: shown ? yearModel(shown, ctx, today) : null,
          prev: index > 0 ? yearPath(years[index - 1]!.year) : null,
          next: index >= 0 && index < years.length - 1 ? yearPath(years[index + 1]!.year) : null,
          legend: KINDS.map((kind) => ({
            kind,
            marker: markerOf(ctx.t, kind),
            label: ctx.t(`admin.cal.kind.${kind}`),
            hint: ctx.t(`admin.cal.kindHint.${kind}`),
          })),
          weekdays: weekdayHeaders(ctx.t),
          suggestedYear: (years[years.length - 1]?.year ?? thisYear - 1) + 1,
          minYear: MIN_YEAR,
          maxYear: MAX_YEAR,
          missing,
          notice: noticeOf(ctx),
        },
      };
    },
  });

  pages.add({
    method: 'get',
    path: '/admin/calendar/edit',
    access: ['admin'],
    handle: async (ctx) => {
      const year = yearOf(ctx.query.year ?? '');
      if (year === null) {
        throw new AppError(
          'invalid_request',
          ctx.t('admin.cal.badYear', { min: MIN_YEAR, max: MAX_YEAR }),
        );
      }
      const stored = await yearOrNull(year);
      return editPage(ctx, {
        year,
        days: stored ? linesOf(stored.days, ctx.t) : '',
        papers: stored ? stored.papers.join('\n') : '',
        exists: stored !== null,
      });
    },
  });

  pages.add({
    method: 'post',
    path: '/admin/calendar/edit',
    access: ['admin'],
    handle: async (ctx) => {
      const days = field(ctx.form, 'days');
      const papersText = field(ctx.form, 'papers');
      const year = yearOf(field(ctx.form, 'year'));
      const state = { days, papers: papersText, exists: false };
      if (year === null) {
        return editPage(ctx, {
          ...state,
          year: field(ctx.form, 'year').slice(0, 10),
          message: ctx.t('admin.cal.badYear', { min: MIN_YEAR, max: MAX_YEAR }),
        });
      }
      const exists = (await yearOrNull(year)) !== null;
      const parsed = parseYearText(days, year, ctx.t);
      const papers = parsePapers(papersText, ctx.t);
      const problems = [
        ...parsed.problems,
        ...papers.problems.map((p) => ({
          ...p,
          message: `${ctx.t('admin.cal.papers')}: ${p.message}`,
        })),
      ];
      if (parsed.days.length === 0 && problems.length === 0) {
        problems.push({ line: null, text: '', message: ctx.t('admin.cal.noDays') });
      }
      if (problems.length > 0) return editPage(ctx, { ...state, year, exists, problems });
      try {
        const result = await calendar.putYear(
          year,
          {
            days: parsed.days,
            papers: papers.papers.length > 0 ? papers.papers : parsed.papers,
          },
          { kind: ctx.principal!.kind, id: ctx.principal!.id },
        );
        return {
          redirect: `${yearPath(year)}&done=${result.created ? 'created' : 'saved'}`,
        };
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        // The service names days by their index (`body.days[3].date`): point at their lines.
        const lines = days.split(/\r\n?|\n/);
        const located = err.details.map((detail): LineProblem => {
          const index = /^body\.days\[(\d+)\]/.exec(detail.path);
          const line = index ? (parsed.lineOfDay[Number(index[1])] ?? null) : null;
          return {
            line,
            text: line !== null ? (lines[line - 1] ?? '') : '',
            message: detail.message,
          };
        });
        return editPage(ctx, {
          ...state,
          year,
          exists,
          problems: located,
          message: err.message,
        });
      }
    },
  });

  async function yearOrNull(year: number): Promise<CalendarYearView | null> {
    try {
      return await calendar.getYear(year);
    } catch (err) {
      if (err instanceof AppError && err.kind === 'not_found') return null;
      throw err;
    }
  }

  function editPage(ctx: PageContext, state: EditState): PageResult {
    const failed = (state.problems?.length ?? 0) > 0 || state.message !== undefined;
    const problems = [...(state.problems ?? [])].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    return {
      status: failed ? 422 : 200,
      view: 'admin-calendar-edit',
      model: {
        title: ctx.t(state.exists ? 'admin.cal.reviseTitle' : 'admin.cal.addTitle', {
          year: state.year,
        }),
        year: state.year,
        exists: state.exists,
        days: state.days,
        papers: state.papers,
        rows: Math.min(Math.max(state.days.split('\n').length + 3, 16), 400),
        failure: failed
          ? {
              heading:
                problems.length > 0
                  ? ctx.t('admin.cal.problems', { n: problems.length })
                  : ctx.t('admin.cal.refused'),
              message: state.message ?? null,
              problems,
            }
          : null,
        example: ctx.t('admin.cal.example', { year: state.year }),
        backHref:
          state.exists && typeof state.year === 'number'
            ? yearPath(state.year)
            : `${BASE}/admin/calendar`,
      },
    };
  }

  function noticeOf(ctx: PageContext): string | null {
    return doneNotice(ctx, DONE, 'admin.cal.done.', { year: ctx.query.year ?? '' });
  }
}

function yearModel(view: CalendarYearView, ctx: PageContext, today: string) {
  const off = view.days.filter((d) => d.isOffDay);
  const work = view.days.filter((d) => !d.isOffDay);
  return {
    year: view.year,
    source: ctx.t(`admin.cal.source.${view.source}`),
    updatedAt: formatInstant(view.updatedAt),
    papers: view.papers.map((p) => ({ text: p, href: /^https?:\/\//.test(p) ? p : null })),
    offCount: off.length,
    workCount: work.length,
    months: monthGrids(view.year, view.days, { t: ctx.t, lang: ctx.lang, today }),
    days: [...view.days]
      .sort((a, b) => (a.date < b.date ? -1 : 1))
      .map((d) => {
        const kind: DayKind = d.isOffDay ? 'off' : 'work';
        return {
          date: d.date,
          weekday: ctx.t(
            `admin.cal.wdFull.${((new Date(`${d.date}T00:00:00Z`).getUTCDay() + 6) % 7) + 1}`,
          ),
          name: d.name,
          kind,
          marker: markerOf(ctx.t, kind),
          label: ctx.t(`admin.cal.kind.${kind}`),
        };
      }),
    editHref: `${BASE}/admin/calendar/edit?year=${view.year}`,
  };
}

function yearPath(year: number): string {
  return `${BASE}/admin/calendar?year=${year}`;
}

function yearOf(value: string): number | null {
  if (!/^\d{4}$/.test(value.trim())) return null;
  const year = Number(value.trim());
  return year >= MIN_YEAR && year <= MAX_YEAR ? year : null;
}
