import { AppError } from '../../services/errors';
import type { SupervisionState } from '../../services/tasks';
import { SUPERVISION_STATES } from '../../services/tasks';
import { formatInstant, pageNumber, pagerOf } from '../format';
import { idempotencyKeyOf, newFormKey } from '../forms';
import type { ConsoleKit } from '../kit';
import type { PageContext, PageResult } from '../pipeline';
import { BASE, doneNotice, field } from '../pipeline';
import { topUnitsOf, unitChoices } from '../report-units';
import { unitPath } from '../views-of';

const PAGE_SIZE = 20;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const LEVELS = ['yellow', 'red'] as const;
/** The unit types the place filter offers (each with the units below it). */
const PICKABLE = new Set(['county', 'street', 'community', 'grid', 'department', 'cobuilding']);

/**
 * 督办: the supervision slips (督办单) in the caller's scope, filtered by state, colour, place (with
 * the units below it) and opening date, each open one with a reply form for its people.
 */
export function registerSupervisionPages({ pages, services }: ConsoleKit): void {
  pages.add({
    method: 'get',
    path: '/supervisions',
    access: ['dispatcher', 'staff', 'admin'],
    handle: (ctx) => listPage(ctx),
  });

  pages.add({
    method: 'post',
    path: '/supervisions/:id/reply',
    access: ['dispatcher', 'staff', 'admin'],
    handle: async (ctx) => {
      const taskId = String(ctx.req.params.id);
      try {
        await services.tasks.act(
          ctx.principal!,
          taskId,
          'complete',
          { outcome: 'replied', form: { reply: field(ctx.form, 'reply') } },
          idempotencyKeyOf(field(ctx.form, 'formKey')),
          'console',
        );
      } catch (err) {
        if (
          err instanceof AppError &&
          (err.kind === 'unprocessable' || err.kind === 'conflict' || err.kind === 'forbidden')
        ) {
          return listPage(ctx, { taskId, error: err });
        }
        throw err;
      }
      return { redirect: `${BASE}/supervisions?done=reply` };
    },
  });

  async function listPage(
    ctx: PageContext,
    problems?: { taskId: string; error: AppError },
  ): Promise<PageResult> {
    const page = pageNumber(ctx.query.page);
    const status = (SUPERVISION_STATES as readonly string[]).includes(ctx.query.status ?? '')
      ? (ctx.query.status as SupervisionState)
      : undefined;
    const level = (LEVELS as readonly string[]).includes(ctx.query.level ?? '')
      ? (ctx.query.level as (typeof LEVELS)[number])
      : undefined;
    const units = await services.units.get();
    const unitId = units.byId.has(ctx.query.unit ?? '') ? ctx.query.unit : undefined;
    const from = DAY.test(ctx.query.from ?? '') ? ctx.query.from : undefined;
    const to = DAY.test(ctx.query.to ?? '') ? ctx.query.to : undefined;
    const listed = await services.tasks.listSupervisions(ctx.principal!, {
      page,
      pageSize: PAGE_SIZE,
      ...(status ? { status } : {}),
      ...(level ? { level } : {}),
      ...(unitId ? { unitId, subtree: true } : {}),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
    });
    const me = ctx.principal!.id;
    const formKey = newFormKey();
    return {
      status: problems ? problems.error.status : 200,
      view: 'supervisions',
      model: {
        title: ctx.t('sv.title'),
        notice: doneNotice(ctx, ['reply'], 'sv.done.'),
        problems: problems
          ? { message: problems.error.message, details: problems.error.details }
          : null,
        filters: {
          statuses: SUPERVISION_STATES.map((s) => ({
            id: s,
            label: ctx.t(`sv.state.${s}`),
            selected: s === status,
          })),
          levels: LEVELS.map((l) => ({
            id: l,
            label: ctx.t(`sv.level.${l}`),
            selected: l === level,
          })),
          unitOptions: unitChoices(units, topUnitsOf(units, ctx.principal!), {
            types: PICKABLE,
            selected: unitId ?? '',
            t: ctx.t,
          }),
          from: from ?? '',
          to: to ?? '',
        },
        rows: listed.items.map((s) => ({
          id: s.id,
          caseId: s.caseId,
          name: s.name,
          level: s.level,
          levelLabel: ctx.t(`sv.level.${s.level}`),
          stateLabel: ctx.t(`sv.state.${s.state}`),
          unit: unitPath(units, s.caseUnitId),
          dueAt: formatInstant(s.dueAt),
          openedAt: formatInstant(s.openedAt),
          overdue: s.overdue,
          reply: s.reply,
          // Only its people may answer an open slip (the workflow checks again).
          canReply:
            (s.state === 'open' || s.state === 'overdue') &&
            s.candidates.some((c) => c.userId === me),
          formKey: `${formKey}-${s.id}`,
          failed: problems?.taskId === s.id,
        })),
        pager: pagerOf(
          `${BASE}/supervisions`,
          { status, level, unit: unitId, from, to },
          page,
          PAGE_SIZE,
          listed.total,
        ),
      },
    };
  }
}
