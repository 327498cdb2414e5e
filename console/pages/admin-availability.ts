import { AppError } from '../../services/errors';
import { orgId } from '../../services/org-input';
import { absenceInput, backupInput } from '../../services/availability-input';
import { ABSENCE_REASONS } from '../../common/stand-ins';
import { BEIJING_ISO_OFFSET } from '../../lang/beijing';
import { formatInstant } from '../format';
import type { ConsoleKit } from '../kit';
import type { PageContext, PageResult } from '../pipeline';
import { BASE, field } from '../pipeline';
import { roleLabel } from './admin-org';
import { personPath, unitPath } from '../admin-org-paths';

/** The posts a unit's AB page lists at once (chosen: a community's posts fit many times over). */
const POSTS_SHOWN = 100;

/**
 * Who is available when, for admins: a person's absences (请假、出差) with their stand-ins, recorded
 * and removed here; a unit's posts with their B-holders (AB岗), named here, and its duty rota
 * (值班表, edited through the API). The same AvailabilityService as the API.
 */
export function registerAvailabilityPages({ pages, services }: ConsoleKit): void {
  const { availability, org } = services;

  pages.add({
    method: 'get',
    path: '/admin/org/people/:id/absences',
    access: ['admin'],
    handle: async (ctx) => absencesPage(ctx, idOf(ctx), { values: {}, errors: {} }),
  });

  pages.add({
    method: 'post',
    path: '/admin/org/people/:id/absences',
    access: ['admin'],
    handle: async (ctx) => {
      const personId = idOf(ctx);
      const values = {
        from: field(ctx.form, 'from'),
        to: field(ctx.form, 'to'),
        reason: field(ctx.form, 'reason'),
        standInId: field(ctx.form, 'standInId').trim(),
      };
      const parsed = absenceInput.safeParse({
        personId,
        from: beijingInstant(values.from),
        to: beijingInstant(values.to),
        reason: values.reason,
        ...(values.standInId !== '' ? { standInId: values.standInId } : {}),
      });
      if (!parsed.success) {
        const errors: Record<string, string> = {};
        for (const issue of parsed.error.issues) errors[String(issue.path[0])] ??= issue.message;
        return absencesPage(ctx, personId, { values, errors, status: 400 });
      }
      try {
        await availability.saveAbsence(parsed.data);
      } catch (err) {
        if (!(err instanceof AppError) || err.kind !== 'unprocessable') throw err;
        const errors: Record<string, string> = {};
        for (const d of err.details) errors[d.path.replace(/^body\./, '')] ??= d.message;
        return absencesPage(ctx, personId, { values, errors, status: 422 });
      }
      return { redirect: `${absencesPath(personId)}?done=saved` };
    },
  });

  pages.add({
    method: 'post',
    path: '/admin/org/people/:id/absences/:absenceId/delete',
    access: ['admin'],
    handle: async (ctx) => {
      const personId = idOf(ctx);
      await availability.removeAbsence(String(ctx.req.params.absenceId));
      return { redirect: `${absencesPath(personId)}?done=removed` };
    },
  });

  async function absencesPage(
    ctx: PageContext,
    personId: string,
    form: { values: Record<string, string>; errors: Record<string, string>; status?: number },
  ): Promise<PageResult> {
    const person = await org.getPerson(ctx.principal!, personId);
    const absences = await availability.listAbsences(ctx.principal!, { personId });
    const done = ctx.query.done;
    return {
      status: form.status ?? 200,
      view: 'admin-org-absences',
      model: {
        title: ctx.t('admin.absences.titleOf', { name: person.name }),
        person: { id: person.id, name: person.name, href: personPath(person.id) },
        notice: done === 'saved' || done === 'removed' ? ctx.t(`admin.absences.${done}`) : null,
        action: absencesPath(personId),
        absences: absences.map((a) => ({
          id: a.id,
          from: formatInstant(a.from),
          to: formatInstant(a.to),
          reason: a.reason ? ctx.t(`admin.absences.reason.${a.reason}`) : '',
          standInId: a.standInId,
          standInHref: a.standInId ? personPath(a.standInId) : null,
          deleteAction: `${absencesPath(personId)}/${encodeURIComponent(a.id)}/delete`,
        })),
        reasons: ABSENCE_REASONS.map((r) => ({
          value: r,
          label: ctx.t(`admin.absences.reason.${r}`),
          selected: r === (form.values.reason ?? 'leave'),
        })),
        values: form.values,
        errors: form.errors,
      },
    };
  }

  pages.add({
    method: 'get',
    path: '/admin/org/units/:id/availability',
    access: ['admin'],
    handle: async (ctx) => unitPage(ctx, idOf(ctx), { values: {}, errors: {} }),
  });

  pages.add({
    method: 'post',
    path: '/admin/org/units/:id/backups',
    access: ['admin'],
    handle: async (ctx) => {
      const unitId = idOf(ctx);
      const values = {
        role: field(ctx.form, 'role'),
        personId: field(ctx.form, 'personId').trim(),
      };
      const parsed = backupInput.safeParse({ unitId, ...values });
      if (!parsed.success) {
        const errors: Record<string, string> = {};
        for (const issue of parsed.error.issues) errors[String(issue.path[0])] ??= issue.message;
        return unitPage(ctx, unitId, { values, errors, status: 400 });
      }
      try {
        await availability.setBackup(parsed.data);
      } catch (err) {
        if (!(err instanceof AppError) || err.kind !== 'unprocessable') throw err;
        const errors: Record<string, string> = {};
        for (const d of err.details) errors[d.path.replace(/^body\./, '')] ??= d.message;
        return unitPage(ctx, unitId, { values, errors, status: 422 });
      }
      return { redirect: `${availabilityPath(unitId)}?done=saved` };
    },
  });

  async function unitPage(
    ctx: PageContext,
    unitId: string,
    form: { values: Record<string, string>; errors: Record<string, string>; status?: number },
  ): Promise<PageResult> {
    const unit = await org.unitOutline(unitId);
    const [posts, backups, rota, hours] = await Promise.all([
      org.listPosts({ unitId, page: 1, pageSize: POSTS_SHOWN }),
      availability.listBackups(ctx.principal!, unitId),
      availability.getRota(ctx.principal!, unitId),
      availability.getWorkingHours(ctx.principal!, unitId),
    ]);
    const backupOf = new Map(backups.map((b) => [b.role, b.personId]));
    const roles = [...new Set([...posts.items.map((p) => p.role), ...backupOf.keys()])].sort();
    return {
      status: form.status ?? 200,
      view: 'admin-org-availability',
      model: {
        title: ctx.t('admin.availability.titleOf', { unit: unit.name }),
        unit: { id: unit.id, name: unit.name, href: unitPath(unit.id) },
        notice: ctx.query.done === 'saved' ? ctx.t('admin.availability.saved') : null,
        posts: roles.map((role) => {
          const backup = backupOf.get(role) ?? null;
          return {
            role: roleLabel(ctx.t, role),
            roleKey: role,
            holders: posts.items
              .filter((p) => p.role === role)
              .map((p) => ({
                id: p.personId,
                name: p.personName || p.personId,
                href: personPath(p.personId),
              })),
            backup: backup === null ? null : { id: backup, href: personPath(backup) },
          };
        }),
        shifts: rota.shifts.map((s) => ({
          on: s.on.join(', '),
          hours: `${s.start}–${s.end}`,
          people: s.people.join(', '),
          roles: s.roles.join(', '),
        })),
        hours: {
          windows: hours.windows.map((w) => `${w.start}–${w.end}`).join(', '),
          days: ctx.t(
            hours.everyDay ? 'admin.availability.everyDay' : 'admin.availability.workdays',
          ),
          source:
            hours.from === null
              ? ctx.t('admin.availability.defaultHours')
              : hours.from === unitId
                ? ctx.t('admin.availability.ownHours')
                : ctx.t('admin.availability.inheritedHours', { unit: hours.from }),
        },
        action: `${BASE}/admin/org/units/${encodeURIComponent(unitId)}/backups`,
        rotaHref: `${BASE}/admin/org/units/${encodeURIComponent(unitId)}/rota`,
        values: form.values,
        errors: form.errors,
      },
    };
  }
}

/** A `datetime-local` value (`2026-12-08T09:00`) as a Beijing instant, else as typed. */
function beijingInstant(value: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? `${value}:00${BEIJING_ISO_OFFSET}` : value;
}

function idOf(ctx: PageContext): string {
  const id = String(ctx.req.params.id);
  if (!orgId.safeParse(id).success) throw new AppError('not_found', `No "${id}"`);
  return id;
}

function absencesPath(personId: string): string {
  return `${BASE}/admin/org/people/${encodeURIComponent(personId)}/absences`;
}

function availabilityPath(unitId: string): string {
  return `${BASE}/admin/org/units/${encodeURIComponent(unitId)}/availability`;
}
