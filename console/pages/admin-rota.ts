import { AppError } from '../../services/errors';
import type { ErrorDetail } from '../../services/errors';
import { rotaInput } from '../../services/availability-input';
import type { DutyShift } from '../../common/duty-rota';
import { formatPath } from '../../lang/case-data';
import type { ConsoleKit } from '../kit';
import type { PageContext, PageResult } from '../pipeline';
import { field } from '../pipeline';
import { unitIdOf, unitPath } from '../admin-org-paths';

/**
 * The duty rota editor (值班表) for admins and for the unit's head (负责人, the holder of its
 * `director` post: their own unit only, 403 for any other, as the service decides): a unit's shifts
 * as rows of a form (days, hours, people, roles), blank rows to add more, a box to remove a row,
 * saved whole through the AvailabilityService's `saveRota`, as `PUT /api/v1/org/units/{id}/rota`
 * does (the same rule there). The form is checked by the API's `rotaInput` and the service, and every problem is shown
 * as the API names it (`body.shifts[1].on[0]: "monday" is not a day…`) beside the row it is about.
 */

/** Blank rows offered below the shifts (chosen: a weekday, a weekend and a holiday shift). */
const BLANK_ROWS = 3;
/** The most rows one form may post: the API's 200 shifts and the blank rows (chosen). */
const MAX_ROWS = 200 + BLANK_ROWS;

/** A row of the form as typed (lists as space-separated text). */
interface RotaRow {
  on: string;
  start: string;
  end: string;
  people: string;
  roles: string;
}

const BLANK: RotaRow = { on: '', start: '', end: '', people: '', roles: '' };

export function registerRotaPages({ pages, services }: ConsoleKit): void {
  const { availability, org } = services;

  pages.add({
    method: 'get',
    path: '/admin/org/units/:id/rota',
    access: ['admin', 'dispatcher', 'staff'],
    handle: async (ctx) => {
      const unitId = unitIdOf(ctx);
      const rota = await availability.rotaToEdit(ctx.principal!, unitId);
      return rotaPage(ctx, unitId, rota.shifts.map(rowOf), []);
    },
  });

  pages.add({
    method: 'post',
    path: '/admin/org/units/:id/rota',
    access: ['admin', 'dispatcher', 'staff'],
    handle: async (ctx) => {
      const unitId = unitIdOf(ctx);
      // Refused (403) before the form is read: only an admin or the unit's head writes it.
      await availability.rotaToEdit(ctx.principal!, unitId);
      // The rows kept, in order: blank ones and those marked for removal are left out, so row n
      // of the page answered is `shifts[n-1]` of what was checked.
      const rows = postedRows(ctx).filter((r, i) => !isBlank(r) && !removed(ctx, i));
      const shifts = rows.map((r) => ({
        on: listOf(r.on),
        start: r.start.trim(),
        end: r.end.trim(),
        people: listOf(r.people),
        roles: listOf(r.roles),
      }));
      const parsed = rotaInput.safeParse({ shifts });
      if (!parsed.success) {
        const details = parsed.error.issues.map((issue) => ({
          path: formatPath(['body', ...issue.path]),
          message: issue.message,
        }));
        return rotaPage(ctx, unitId, rows, details, 400);
      }
      try {
        await availability.saveRota(ctx.principal!, unitId, parsed.data);
      } catch (err) {
        if (!(err instanceof AppError) || err.kind !== 'unprocessable') throw err;
        return rotaPage(ctx, unitId, rows, err.details, 422, err.message);
      }
      return { redirect: `${rotaPath(unitId)}?done=saved` };
    },
  });

  async function rotaPage(
    ctx: PageContext,
    unitId: string,
    rows: RotaRow[],
    problems: readonly ErrorDetail[],
    status = 200,
    message?: string,
  ): Promise<PageResult> {
    const unit = await org.unitOutline(unitId);
    const shown = [...rows, ...Array.from({ length: BLANK_ROWS }, () => BLANK)];
    return {
      status,
      view: 'admin-org-rota',
      model: {
        title: ctx.t('admin.rota.titleOf', { unit: unit.name }),
        unit: { id: unit.id, name: unit.name, href: unitPath(unit.id) },
        // The unit's admin pages are an admin's; a unit's head edits the rota alone.
        availabilityHref: ctx.principal!.roles.includes('admin')
          ? `${unitPath(unit.id)}/availability`
          : null,
        notice: ctx.query.done === 'saved' && status === 200 ? ctx.t('admin.rota.saved') : null,
        action: rotaPath(unitId),
        rowCount: shown.length,
        rows: shown.map((row, i) => {
          const errors = problems.filter((p) => rowIndexOf(p.path) === i);
          return {
            index: i,
            number: i + 1,
            ...row,
            blank: i >= rows.length,
            errors,
            // The fields a problem names, so each is marked (`has-error`) where it sits.
            bad: Object.fromEntries(
              errors.flatMap((e) => {
                const name = /^body\.shifts\[\d+\]\.(\w+)/.exec(e.path)?.[1];
                return name ? [[name, true]] : [];
              }),
            ),
          };
        }),
        problems:
          problems.length > 0
            ? { message: message ?? ctx.t('admin.rota.invalid'), details: problems }
            : null,
      },
    };
  }
}

/** The rows the form posted (`on_0`, `start_0`, … up to `rows`). */
function postedRows(ctx: PageContext): RotaRow[] {
  const count = Math.min(Math.max(Number.parseInt(field(ctx.form, 'rows'), 10) || 0, 0), MAX_ROWS);
  return Array.from({ length: count }, (_, i) => ({
    on: field(ctx.form, `on_${i}`),
    start: field(ctx.form, `start_${i}`),
    end: field(ctx.form, `end_${i}`),
    people: field(ctx.form, `people_${i}`),
    roles: field(ctx.form, `roles_${i}`),
  }));
}

function removed(ctx: PageContext, index: number): boolean {
  return field(ctx.form, `remove_${index}`) !== '';
}

function isBlank(row: RotaRow): boolean {
  return [row.on, row.start, row.end, row.people, row.roles].every((v) => v.trim() === '');
}

/** A list typed in one box: separated by spaces, commas or 、 (as people write them). */
function listOf(text: string): string[] {
  return text.split(/[\s,，、;；]+/).filter((item) => item !== '');
}

function rowOf(shift: DutyShift): RotaRow {
  return {
    on: shift.on.join(' '),
    start: shift.start,
    end: shift.end,
    people: shift.people.join(' '),
    roles: shift.roles.join(' '),
  };
}

/** The row a problem's path names (`body.shifts[2]…` → 2), or null for the rota as a whole. */
function rowIndexOf(path: string): number | null {
  const match = /^body\.shifts\[(\d+)\]/.exec(path);
  return match ? Number(match[1]) : null;
}

function rotaPath(unitId: string): string {
  return `${unitPath(unitId)}/rota`;
}
