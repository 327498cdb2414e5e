import { stepsOf } from '../report-start';
import type { Principal } from '../../services/auth';
import { AppError } from '../../services/errors';
import type { CaseView } from '../../services/cases';
import type { DefinitionSnapshot } from '../../lang/definition';
import { formatInstant, pageNumber, pagerOf } from '../format';
import type { ConsoleKit } from '../kit';
import type { PageContext, PageResult } from '../pipeline';
import { BASE, field } from '../pipeline';
import {
  caseRow,
  dataRows,
  deadlineRows,
  statusLabel,
  taskRow,
  timelineRows,
  unitPath,
} from '../views-of';
import { idempotencyKeyOf, newFormKey } from '../forms';
import { noticeOf } from './work';
import { topUnitsOf, unitChoices } from '../report-units';
import type { Choice } from '../report-format';
import { exportLinks } from './exports';

const PAGE_SIZE = 20;
const STATUSES = ['open', 'closed', 'cancelled', 'rejected'] as const;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** The unit types the case list's place filter offers (each with the units below it). */
const PICKABLE = new Set(['county', 'street', 'community', 'grid', 'department', 'cobuilding']);

function flagOf(value: string | undefined): boolean | undefined {
  return value === 'true' ? true : value === 'false' ? false : undefined;
}

/**
 * Cases: the list in the caller's scope, and the case page (data, deadlines, tasks, timeline,
 * mail sent, rating, publication). Residents see their own cases through the same page, without
 * the staff-only parts; they rate from it.
 */
export function registerCasePages({ pages, services }: ConsoleKit): void {
  pages.add({
    method: 'get',
    path: '/cases',
    access: ['dispatcher', 'staff', 'admin'],
    handle: async (ctx) => listPage(ctx, 'cases'),
  });

  pages.add({
    method: 'get',
    path: '/my/requests',
    access: ['resident'],
    handle: async (ctx) => listPage(ctx, 'my-requests'),
  });

  async function listPage(ctx: PageContext, view: 'cases' | 'my-requests'): Promise<PageResult> {
    const page = pageNumber(ctx.query.page);
    const status = (STATUSES as readonly string[]).includes(ctx.query.status ?? '')
      ? ctx.query.status
      : undefined;
    // One process from the select, or several comma-separated in a link (a dashboard's).
    const definitionKeys = (ctx.query.process ?? '')
      .split(',')
      .filter((key) => /^[a-z][a-z0-9-]{1,62}$/.test(key));
    const units = await services.units.get();
    const staff = view === 'cases';
    // Staff filter by place (always with the units below it), date and overdue/escalated.
    const unitId = staff && units.byId.has(ctx.query.unit ?? '') ? ctx.query.unit : undefined;
    const from = staff && DAY.test(ctx.query.from ?? '') ? ctx.query.from : undefined;
    const to = staff && DAY.test(ctx.query.to ?? '') ? ctx.query.to : undefined;
    const overdue = staff ? flagOf(ctx.query.overdue) : undefined;
    const escalated = staff ? flagOf(ctx.query.escalated) : undefined;
    const listed = await services.cases.listCases(ctx.principal!, {
      page,
      pageSize: PAGE_SIZE,
      ...(status ? { status } : {}),
      ...(definitionKeys.length > 0 ? { definitionKeys } : {}),
      ...(unitId ? { unitId, subtree: true } : {}),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      ...(overdue !== undefined ? { overdue } : {}),
      ...(escalated !== undefined ? { escalated } : {}),
    });
    const processes = await services.definitions.list();
    const basePath = view === 'cases' ? `${BASE}/cases` : `${BASE}/my/requests`;
    const unitOptions: Choice[] = staff
      ? unitChoices(units, topUnitsOf(units, ctx.principal!), {
          types: PICKABLE,
          selected: unitId ?? '',
          t: ctx.t,
        })
      : [];
    const flagChoices = (selected: boolean | undefined) =>
      (['true', 'false'] as const).map((v) => ({
        id: v,
        label: ctx.t(v === 'true' ? 'cases.filter.yes' : 'cases.filter.no'),
        selected: selected === (v === 'true'),
      }));
    return {
      view,
      model: {
        title: ctx.t(view === 'cases' ? 'cases.title' : 'my.title'),
        rows: listed.items.map((c) => caseRow(c, { t: ctx.t, units })),
        statuses: STATUSES.map((s) => ({
          id: s,
          label: statusLabel(ctx.t, s),
          selected: s === status,
        })),
        processes: processes.map((p) => ({
          key: p.key,
          name: p.name,
          selected: definitionKeys.includes(p.key),
        })),
        staffFilters: staff
          ? {
              unitOptions,
              from: from ?? '',
              to: to ?? '',
              overdue: flagChoices(overdue),
              escalated: flagChoices(escalated),
            }
          : null,
        pager: pagerOf(
          basePath,
          {
            status,
            process: definitionKeys.join(',') || undefined,
            unit: unitId,
            from,
            to,
            overdue: ctx.query.overdue,
            escalated: ctx.query.escalated,
          },
          page,
          PAGE_SIZE,
          listed.total,
          'page',
          listed.totalIsEstimate,
        ),
        notice: noticeOf(ctx),
        exportLinks:
          view === 'cases'
            ? exportLinks('cases', {
                status,
                process: definitionKeys.join(',') || undefined,
                unit: unitId,
                from,
                to,
                overdue: ctx.query.overdue,
                escalated: ctx.query.escalated,
              })
            : [],
      },
    };
  }

  const casePage = async (
    ctx: PageContext,
    caseId: string,
    problems?: AppError,
  ): Promise<PageResult> => {
    const principal = ctx.principal!;
    const view = await services.cases.getCase(principal, caseId);
    const snapshot = await services.definitions.snapshot(
      view.definition.key,
      view.definition.version,
    );
    const units = await services.units.get();
    // A rater named by a feedback step (docs 6.8) sees the case as a rater, staff or not: none of
    // the staff parts (tasks, mail), which their scope would not show them anyway.
    const staff = isStaff(principal) && view.access === 'scope';
    const stepNames = new Map((snapshot?.spec.steps ?? []).map((s) => [s.id, s.name]));
    const tasks = staff
      ? (
          await services.tasks.listTasks(principal, {
            view: 'scope',
            page: 1,
            pageSize: 50,
            caseId,
          })
        ).items
      : [];
    const mail = staff ? await services.cases.mailOf(principal, caseId, 50) : [];
    const actorNames = await namesOf(view);
    const photos = view.attachments.map((a) => ({
      id: a.id,
      href: `${BASE}/attachments/${encodeURIComponent(a.id)}`,
      thumbnail: `${BASE}/attachments/${encodeURIComponent(a.id)}/thumbnail`,
      at: formatInstant(a.uploadedAt),
      who: actorNames.get(a.uploadedBy.id) ?? a.uploadedBy.id,
      step: a.stepId ? (stepNames.get(a.stepId) ?? a.stepId) : '',
    }));
    // The timeline with each photo in its place: its `attachment.added` entry shows it; a photo
    // without one (attached before photos were recorded, or while the case's workflow could not
    // be told) is merged in by time, a stable merge.
    const photoById = new Map(photos.map((p) => [p.id, p]));
    const onTimeline = new Set<string>();
    const timeline = [
      ...timelineRows(view, stepNames, ctx.t).map((row, i) => {
        const entry = view.timeline[i]!;
        const who = actorNames.get(entry.actor.id) ?? row.who;
        const attached = entry.type === 'attachment.added' ? entry.detail?.attachment : undefined;
        const photo = typeof attached === 'string' ? photoById.get(attached) : undefined;
        if (photo) onTimeline.add(photo.id);
        return {
          sortAt: entry.at,
          row: photo ? { ...row, who, detail: '', photo } : { ...row, who },
        };
      }),
      ...view.attachments
        .flatMap((a, i) => (onTimeline.has(a.id) ? [] : [{ a, i }]))
        .map(({ a, i }) => ({
          sortAt: a.uploadedAt,
          row: {
            at: photos[i]!.at,
            what: ctx.t('event.attachment.added'),
            step: photos[i]!.step,
            who: photos[i]!.who,
            via: '',
            detail: '',
            photo: photos[i]!,
          },
        })),
    ]
      .map((entry, order) => ({ ...entry, order }))
      .sort((a, b) => Date.parse(a.sortAt) - Date.parse(b.sortAt) || a.order - b.order)
      .map((entry) => entry.row);
    return {
      status: problems ? problems.status : 200,
      view: 'case',
      model: {
        title: `${view.definition.name} · ${view.id}`,
        staff,
        c: {
          id: view.id,
          name: view.definition.name,
          version: view.definition.version,
          status: view.status,
          statusLabel: statusLabel(ctx.t, view.status),
          unit: unitPath(units, view.unitId),
          category: view.category,
          step: view.currentStep?.name ?? '',
          createdAt: formatInstant(view.createdAt),
          closedAt: formatInstant(view.closedAt),
          channel: view.channel,
          projected: view.projected,
          parentCaseId: view.parentCaseId,
        },
        data: dataRows(snapshot?.spec.input.fields ?? [], view.data, units, ctx.t),
        deadlines: deadlineRows(view.deadlines, ctx.t, ctx.now),
        tasks: tasks.map((task) =>
          taskRow(task, { t: ctx.t, now: ctx.now, units, userId: principal.id }),
        ),
        timeline,
        photos,
        mail: mail.map((m) => ({
          ...m,
          statusLabel: ctx.t(`mail.${m.status}`),
          createdAt: formatInstant(m.createdAt),
          sentAt: formatInstant(m.sentAt),
        })),
        rating: view.rating
          ? {
              score: view.rating.score,
              missing: view.rating.score === null,
              comment: view.rating.comment,
              at: formatInstant(view.rating.at),
            }
          : null,
        canRate: canRate(principal, view, snapshot),
        ratingComment: problems ? field(ctx.form, 'comment') : '',
        publication: view.publication
          ? { ...view.publication, publishedAt: formatInstant(view.publication.publishedAt) }
          : null,
        problems: problems ? { message: problems.message, details: problems.details } : null,
        formKey: newFormKey(),
        notice: noticeOf(ctx),
      },
    };
  };

  /** People named on the timeline by their display names (users), others by their ids. */
  async function namesOf(view: CaseView): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    const actors = [
      ...view.timeline.map((e) => e.actor),
      ...view.attachments.map((a) => a.uploadedBy),
    ];
    for (const actor of actors) {
      // A rater's view leaves the requester's id out (empty).
      if (actor.kind !== 'user' || actor.id === '' || names.has(actor.id)) continue;
      names.set(
        actor.id,
        await services.accounts.displayNameOf({
          kind: 'user',
          id: actor.id,
          roles: [],
          unitIds: [],
        }),
      );
    }
    return names;
  }

  pages.add({
    method: 'get',
    path: '/cases/:id',
    access: 'signed-in',
    handle: (ctx) => casePage(ctx, String(ctx.req.params.id)),
  });

  pages.add({
    method: 'post',
    path: '/cases/:id/rate',
    access: 'signed-in',
    handle: async (ctx) => {
      const caseId = String(ctx.req.params.id);
      const score = Number.parseInt(field(ctx.form, 'score'), 10);
      const comment = field(ctx.form, 'comment').trim();
      try {
        await services.tasks.actOnCase(
          ctx.principal!,
          caseId,
          'rate',
          { ...(Number.isFinite(score) ? { score } : {}), ...(comment ? { comment } : {}) },
          idempotencyKeyOf(field(ctx.form, 'formKey')),
          'console',
        );
      } catch (err) {
        if (err instanceof AppError && (err.kind === 'unprocessable' || err.kind === 'conflict')) {
          return casePage(ctx, caseId, err);
        }
        throw err;
      }
      return { redirect: `${BASE}/cases/${encodeURIComponent(caseId)}?done=rate` };
    },
  });
}

function isStaff(principal: Principal): boolean {
  return ['dispatcher', 'staff', 'admin'].some((r) =>
    principal.roles.includes(r as Principal['roles'][number]),
  );
}

/**
 * The requester, or a rater the feedback step names (`from`, docs 6.8), rates while the case
 * waits in a feedback step and no rating is in.
 */
function canRate(
  principal: Principal,
  view: CaseView,
  snapshot: DefinitionSnapshot | null,
): boolean {
  if (view.status !== 'open' || view.rating !== null) return false;
  if (view.createdBy.id !== principal.id && !view.namedRater) return false;
  // Anywhere in the process: a feedback step may sit in a parallel branch.
  const step = snapshot ? stepsOf(snapshot).find((s) => s.id === view.currentStep?.id) : undefined;
  return step?.type === 'feedback';
}
