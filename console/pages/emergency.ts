import { AppError } from '../../services/errors';
import type { RollCallView } from '../../services/tasks';
import type { DefinitionSnapshot } from '../../lang/definition';
import { formatInstant, pagerOf } from '../format';
import type { Translate } from '../i18n';
import type { ConsoleKit } from '../kit';
import type { PageContext, PageResult } from '../pipeline';
import { BASE, field } from '../pipeline';
import { CASE_ID, pageOf, statusName } from '../report-format';
import { startFormOf, startFromForm, startable, stepsOf } from '../report-start';
import { nameOf } from '../report-units';
import { checkInText } from '../views-of';

/**
 * Emergency activation (一键启动) for admins: start an activation for a county, street or
 * community (a case of a process whose sub-process step calls a roll-call in every compound),
 * the activations so far, and one activation's live roll-call: who has reported and who has
 * not, per compound and in total. The roll-call section reloads itself every few seconds
 * (`data-refresh`, console.js) while any roll-call still runs.
 */

const PATH = `${BASE}/emergency`;
const ADMIN = ['admin'] as const;
const LIST_SIZE = 20;
const UNITS_PAGE = 20;
const REFRESH_SECONDS = 5;
const SCOPES = new Set(['county', 'street', 'community', 'grid']);

type Posted = Record<string, string | string[]>;

/** Whether a process runs a roll-call: a claim pool every candidate is to claim. */
function hasRollCall(snapshot: DefinitionSnapshot | undefined): boolean {
  return (
    snapshot !== undefined &&
    stepsOf(snapshot).some((s) => s.type === 'claim' && s.claimants.max === 'all')
  );
}

/** Processes that fan out over units to a process with a roll-call (emergency-activation). */
export function activationProcesses(
  snapshots: readonly DefinitionSnapshot[],
): DefinitionSnapshot[] {
  const byKey = new Map(snapshots.map((s) => [s.key, s]));
  return snapshots.filter((s) =>
    stepsOf(s).some(
      (step) =>
        step.type === 'subprocess' &&
        typeof step.forEach === 'object' &&
        hasRollCall(byKey.get(step.definition)),
    ),
  );
}

function rollCallView(view: RollCallView, t: Translate) {
  const running = view.totals.running > 0 || view.totals.pending > 0;
  return {
    totals: view.totals,
    share:
      view.totals.expected > 0
        ? `${Math.round((view.totals.acknowledged / view.totals.expected) * 100)}%`
        : '—',
    running,
    units: view.units.map((u) => ({
      caseId: u.caseId,
      caseHref: `${BASE}/cases/${u.caseId}`,
      unitName: u.unitName || u.unitId || '—',
      status: u.status,
      statusName:
        u.taskId === null
          ? u.status === 'pending' || u.status === 'open'
            ? t('report.em.pending')
            : statusName(u.status, t)
          : t(
              `report.em.task.${['open', 'completed', 'unclaimed', 'cancelled'].includes(u.status) ? u.status : 'other'}`,
            ),
      expected: u.expected,
      acknowledged: u.acknowledged,
      missing: u.missing,
      // A report-in's check-in (签到): how far from the compound, flagged beyond the limit.
      reported: u.people
        .filter((p) => p.acknowledged)
        .map((p) => ({
          name: p.name,
          checkIn: p.checkIn ? checkInText(p.checkIn, t) : null,
          beyond: p.checkIn?.within === false,
        })),
      waiting: u.people.filter((p) => !p.acknowledged).map((p) => p.name),
    })),
  };
}

export function registerEmergencyPages({ pages, services }: ConsoleKit): void {
  async function processes(ctx: PageContext): Promise<DefinitionSnapshot[]> {
    const snapshots = await services.definitions.latestSnapshots();
    return startable(activationProcesses(snapshots), ctx.principal!, () => true);
  }

  async function listPage(
    ctx: PageContext,
    form: { values?: Posted; errors?: Record<string, string>; problems?: unknown; status?: number },
  ): Promise<PageResult> {
    const { t } = ctx;
    const [all, tree] = await Promise.all([processes(ctx), services.units.get()]);
    const wanted = form.values ? field(form.values, 'process') : (ctx.query.process ?? '');
    const selected =
      all.find((p) => p.key === wanted) ??
      all.find((p) => p.key === 'emergency-activation') ??
      all[0];
    const page = pageOf(ctx.query);
    const list = selected
      ? await services.cases.listCases(ctx.principal!, {
          page,
          pageSize: LIST_SIZE,
          definitionKeys: [selected.key],
        })
      : { items: [], total: 0 };
    return {
      status: form.status ?? 200,
      view: 'emergency',
      model: {
        title: t('report.em.title'),
        problems: form.problems ?? null,
        startForm: selected
          ? startFormOf(all, selected, {
              tree,
              principal: ctx.principal!,
              unitTypes: SCOPES,
              t,
              ...(form.values ? { values: form.values } : {}),
              ...(form.errors ? { errors: form.errors } : {}),
            })
          : null,
        activations: list.items.map((c) => ({
          id: c.id,
          href: `${PATH}/${c.id}`,
          unitName: nameOf(tree, c.unitId) || '—',
          status: c.status,
          statusName: statusName(c.status, t),
          step: c.currentStep?.name ?? '',
          startedAt: formatInstant(c.createdAt),
          closedAt: formatInstant(c.closedAt),
        })),
        pager: pagerOf(PATH, { process: selected?.key }, page, LIST_SIZE, list.total),
      },
    };
  }

  pages.add({
    method: 'get',
    path: '/emergency',
    access: ADMIN,
    handle: (ctx) => listPage(ctx, {}),
  });

  pages.add({
    method: 'post',
    path: '/emergency',
    access: ADMIN,
    handle: async (ctx) => {
      const process = (await processes(ctx)).find((p) => p.key === field(ctx.form, 'process'));
      if (!process) {
        return listPage(ctx, {
          values: ctx.form,
          status: 422,
          problems: { message: ctx.t('report.start.noProcess'), details: [] },
        });
      }
      const outcome = await startFromForm(services, ctx.principal!, process, ctx.form, ctx.t);
      if (outcome.ok) return { redirect: `${PATH}/${outcome.caseId}?started=1` };
      return listPage(ctx, {
        values: ctx.form,
        errors: outcome.errors,
        problems: outcome.problems,
        status: outcome.status,
      });
    },
  });

  pages.add({
    method: 'get',
    path: '/emergency/:id',
    access: ADMIN,
    handle: async (ctx) => {
      const { t } = ctx;
      const id = String(ctx.req.params.id ?? '');
      if (!CASE_ID.test(id)) throw new AppError('not_found', t('report.em.notFound', { id }));
      const missingOnly = ctx.query.missing === '1';
      const page = pageOf(ctx.query);
      const activation = await services.cases.getCase(ctx.principal!, id);
      const [rollCall, snapshot, tree] = await Promise.all([
        services.tasks.rollCall(ctx.principal!, id, { page, pageSize: UNITS_PAGE, missingOnly }),
        services.definitions.snapshot(activation.definition.key, activation.definition.version),
        services.units.get(),
      ]);
      const steps = snapshot ? stepsOf(snapshot) : [];
      const closedAt = activation.timeline.find((e) => e.type === 'case.closed');
      const outcome = closedAt?.stepId
        ? (steps.find((s) => s.id === closedAt.stepId)?.name ?? '')
        : '';
      const live = rollCallView(rollCall, t);
      const refresh = live.running || activation.status === 'open' || !activation.projected;
      return {
        view: 'emergency-activation',
        model: {
          title: t('report.em.activationTitle', { unit: nameOf(tree, activation.unitId) || '—' }),
          notice: ctx.query.started === '1' ? t('report.em.started') : null,
          activation: {
            id,
            process: activation.definition.name,
            unitName: nameOf(tree, activation.unitId) || '—',
            status: activation.status,
            statusName: statusName(activation.status, t),
            step: activation.currentStep?.name ?? '',
            outcome,
            startedAt: formatInstant(activation.createdAt),
            closedAt: formatInstant(activation.closedAt),
            fields: (snapshot?.spec.input.fields ?? [])
              .filter(
                (f) => activation.data[f.name] !== undefined && activation.data[f.name] !== '',
              )
              .map((f) => ({ label: f.label, value: String(activation.data[f.name]) })),
          },
          live,
          refresh: refresh ? String(REFRESH_SECONDS) : null,
          missingOnly,
          filterHref: missingOnly ? `${PATH}/${id}` : `${PATH}/${id}?missing=1`,
          pager: pagerOf(
            `${PATH}/${id}`,
            { missing: missingOnly ? '1' : undefined },
            page,
            UNITS_PAGE,
            rollCall.total,
          ),
        },
      };
    },
  });
}
