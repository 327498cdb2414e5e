import { hasAnyRole } from '../../services/auth';
import { AppError } from '../../services/errors';
import type { RoundProgress, RoundView } from '../../services/evaluations';
import type { DefinitionSnapshot } from '../../lang/definition';
import { SCORE_MAX, SCORE_MIN } from '../../common/evaluation';
import { pagerOf } from '../format';
import type { ConsoleKit } from '../kit';
import type { PageContext, PageResult } from '../pipeline';
import { BASE, field } from '../pipeline';
import {
  ROUNDS,
  orderRows,
  parseScores,
  progressView,
  resultsView,
  roundFacts,
  roundHref,
  scoreRows,
  summaryRow,
} from '../report-evaluations';
import { CASE_ID, pageOf } from '../report-format';
import { idempotencyKeyOf, newFormKey } from '../forms';
import type { StartForm } from '../report-start';
import { startFormOf, startFromForm, startable, stepsOf } from '../report-start';
import { SUPERVISOR_ROLES } from '../../common/roles';
import { ASSESSMENT_READERS } from '../report-assessments';
import { exportLinks } from './exports';

/**
 * Evaluation rounds (评单评议): the rounds a user sees, a round's facts, progress (who scored) and
 * orders, the score form of entitled scorers, the frozen results with their CSV, and opening a
 * round on demand (a case of a process with an `evaluation` step).
 */

const LIST_SIZE = 20;
const ORDER_PAGE = 50;
const SCORE_PAGE = 25;
/** The units a round may be opened for. */
const ROUND_UNITS = new Set(['county', 'street', 'community']);

type Posted = Record<string, string | string[]>;

function roundIdOf(ctx: PageContext): string {
  const id = String(ctx.req.params.id ?? '');
  if (!CASE_ID.test(id)) {
    throw new AppError('not_found', ctx.t('report.eval.notFound', { id }));
  }
  return id;
}

/** `?saved=3` after a redirect: what the last form did, as the page's notice. */
function noticeOf(ctx: PageContext): string | null {
  if (ctx.query.started === '1') return ctx.t('report.eval.started');
  const saved = Number(ctx.query.saved);
  return Number.isInteger(saved) && saved > 0 ? ctx.t('report.eval.saved', { n: saved }) : null;
}

export function registerEvaluationPages({ pages, services }: ConsoleKit): void {
  async function openable(ctx: PageContext): Promise<DefinitionSnapshot[]> {
    if (!hasAnyRole(ctx.principal!, SUPERVISOR_ROLES)) return [];
    return startable(await services.definitions.latestSnapshots(), ctx.principal!, (s) =>
      stepsOf(s).some((step) => step.type === 'evaluation'),
    );
  }

  async function listPage(
    ctx: PageContext,
    form: { values?: Posted; errors?: Record<string, string>; problems?: unknown; status?: number },
  ): Promise<PageResult> {
    const { t } = ctx;
    const principal = ctx.principal!;
    const status =
      ctx.query.status === 'open' || ctx.query.status === 'closed' ? ctx.query.status : '';
    const page = pageOf(ctx.query);
    const [list, processes, tree] = await Promise.all([
      services.evaluations.listRounds(principal, {
        page,
        pageSize: LIST_SIZE,
        ...(status ? { status } : {}),
      }),
      openable(ctx),
      services.units.get(),
    ]);
    const wanted = form.values ? field(form.values, 'process') : (ctx.query.process ?? '');
    const selected =
      processes.find((p) => p.key === wanted) ??
      processes.find((p) => p.key === 'evaluation-round') ??
      processes[0];
    const openForm: StartForm | null = selected
      ? startFormOf(processes, selected, {
          tree,
          principal,
          unitTypes: ROUND_UNITS,
          t,
          ...(form.values ? { values: form.values } : {}),
          ...(form.errors ? { errors: form.errors } : {}),
        })
      : null;
    return {
      status: form.status ?? 200,
      view: 'evaluations',
      model: {
        title: t('report.eval.title'),
        notice: noticeOf(ctx),
        assessmentsHref: hasAnyRole(principal, ASSESSMENT_READERS) ? `${BASE}/assessments` : null,
        problems: form.problems ?? null,
        statusOptions: ['open', 'closed'].map((s) => ({
          value: s,
          label: t(`report.eval.status.${s}`),
          selected: s === status,
        })),
        rounds: list.items.map((r) => summaryRow(r, tree, t)),
        pager: pagerOf(ROUNDS, { status }, page, LIST_SIZE, list.total),
        openForm,
        opened: Boolean(form.values),
      },
    };
  }

  pages.add({
    method: 'get',
    path: '/evaluations',
    access: 'signed-in',
    handle: (ctx) => listPage(ctx, {}),
  });

  pages.add({
    method: 'post',
    path: '/evaluations/open',
    access: SUPERVISOR_ROLES,
    handle: async (ctx) => {
      const processes = await openable(ctx);
      const process = processes.find((p) => p.key === field(ctx.form, 'process'));
      if (!process) {
        return listPage(ctx, {
          values: ctx.form,
          status: 422,
          problems: { message: ctx.t('report.start.noProcess'), details: [] },
        });
      }
      const outcome = await startFromForm(services, ctx.principal!, process, ctx.form, ctx.t);
      if (outcome.ok) return { redirect: `${roundHref(outcome.caseId)}?started=1` };
      return listPage(ctx, {
        values: ctx.form,
        errors: outcome.errors,
        problems: outcome.problems,
        status: outcome.status,
      });
    },
  });

  /** The round, and for its supervisors the progress (null for a scorer). */
  async function loadRound(
    ctx: PageContext,
    id: string,
    itemIds: (round: RoundView) => string[],
  ): Promise<{ round: RoundView; progress: RoundProgress | null }> {
    const round = await services.evaluations.getRound(ctx.principal!, id);
    const progress = await services.evaluations
      .roundProgress(ctx.principal!, id, itemIds(round))
      .catch((err: unknown) => {
        if (err instanceof AppError && err.kind === 'not_found') return null;
        throw err;
      });
    return { round, progress };
  }

  pages.add({
    method: 'get',
    path: '/evaluations/:id',
    access: 'signed-in',
    handle: async (ctx) => {
      const { t } = ctx;
      const id = roundIdOf(ctx);
      const page = pageOf(ctx.query);
      const pageItems = (round: RoundView) =>
        round.items.slice((page - 1) * ORDER_PAGE, page * ORDER_PAGE).map((i) => i.id);
      let loaded: { round: RoundView; progress: RoundProgress | null };
      try {
        loaded = await loadRound(ctx, id, pageItems);
      } catch (err) {
        if (!(err instanceof AppError && err.kind === 'not_found')) throw err;
        // Started a moment ago: the case runs, the round opens at its evaluation step.
        const started = await services.cases.getCase(ctx.principal!, id).catch(() => null);
        if (!started || started.status !== 'open') throw err;
        const snapshot = await services.definitions.snapshot(
          started.definition.key,
          started.definition.version,
        );
        if (!snapshot || !stepsOf(snapshot).some((s) => s.type === 'evaluation')) throw err;
        return {
          view: 'evaluation-opening',
          model: {
            title: t('report.eval.opening'),
            notice: noticeOf(ctx),
            caseId: id,
            process: started.definition.name,
            step: started.currentStep?.name ?? '',
          },
        };
      }
      const { round, progress } = loaded;
      const tree = await services.units.get();
      const supervisor = progress !== null;
      const results =
        supervisor && round.status === 'closed'
          ? await services.evaluations.results(ctx.principal!, id).catch((err: unknown) => {
              if (err instanceof AppError && err.kind === 'conflict') return null;
              throw err;
            })
          : null;
      // What the caller scores order by order (a 评单会 group's scores come with its meeting).
      const meetingGroups = new Set(round.groups.filter((g) => g.meeting).map((g) => g.id));
      const mine = round.items.filter((i) => i.groups.some((g) => !meetingGroups.has(g)));
      const shown = supervisor ? round.items.slice((page - 1) * ORDER_PAGE, page * ORDER_PAGE) : [];
      return {
        view: 'evaluation',
        model: {
          title: t('report.eval.roundTitle', { unit: roundFacts(round, tree, t).unitName }),
          notice: noticeOf(ctx),
          round: roundFacts(round, tree, t),
          supervisor,
          progress: progress ? progressView(progress, t) : null,
          groupNames: round.groups.map((g) => g.name),
          orders: supervisor ? orderRows(round, shown, progress, tree) : [],
          pager: supervisor
            ? pagerOf(roundHref(id), {}, page, ORDER_PAGE, round.items.length)
            : null,
          scoring: {
            entitled: mine.length,
            scored: mine.filter((i) => i.myScore !== null).length,
            open: round.status === 'open',
            href: roundHref(id, '/score'),
          },
          results: results ? resultsView(results, t) : null,
          csvHref: roundHref(id, '/results.csv'),
          exportLinks: results ? exportLinks('evaluation-results', { roundId: id }) : [],
        },
      };
    },
  });

  async function scorePage(
    ctx: PageContext,
    id: string,
    posted: { values: Posted; problems: unknown; errors: Set<string>; status: number } | null,
  ): Promise<PageResult> {
    const { t } = ctx;
    const round = await services.evaluations.getRound(ctx.principal!, id);
    const tree = await services.units.get();
    // A 评单会 group is not scored order by order: its host records the meeting.
    const groups = round.groups.filter(
      (g) => g.meeting === null && round.items.some((i) => i.groups.includes(g.id)),
    );
    if (groups.length === 0) {
      throw new AppError('forbidden', t('report.eval.nothingToScore'));
    }
    const wanted = posted ? field(posted.values, 'group') : (ctx.query.group ?? '');
    const group = groups.find((g) => g.id === wanted) ?? groups[0]!;
    const items = round.items.filter((i) => i.groups.includes(group.id));
    const page = posted ? pageOf({ page: field(posted.values, 'page') }) : pageOf(ctx.query);
    const shown = items.slice((page - 1) * SCORE_PAGE, page * SCORE_PAGE);
    return {
      status: posted?.status ?? 200,
      view: 'evaluation-score',
      model: {
        title: t('report.eval.scoreTitle'),
        notice: noticeOf(ctx),
        problems: posted?.problems ?? null,
        round: roundFacts(round, tree, t),
        roundHref: roundHref(id),
        action: roundHref(id, '/score'),
        open: round.status === 'open',
        groups: groups.map((g) => ({
          id: g.id,
          name: g.name,
          href: `${roundHref(id, '/score')}?group=${encodeURIComponent(g.id)}`,
          current: g.id === group.id,
        })),
        group: { id: group.id, name: group.name },
        criteria: round.criteria,
        scale: t('report.eval.scale', { min: SCORE_MIN, max: SCORE_MAX }),
        rows: scoreRows(
          round,
          shown,
          group.id,
          posted?.values ?? null,
          tree,
          posted?.errors ?? new Set(),
        ),
        page,
        requestKey:
          posted && idempotencyKeyOf(field(posted.values, 'requestKey'))
            ? field(posted.values, 'requestKey')
            : newFormKey(),
        pager: pagerOf(
          roundHref(id, '/score'),
          { group: group.id },
          page,
          SCORE_PAGE,
          items.length,
        ),
      },
    };
  }

  pages.add({
    method: 'get',
    path: '/evaluations/:id/score',
    access: 'signed-in',
    handle: (ctx) => scorePage(ctx, roundIdOf(ctx), null),
  });

  pages.add({
    method: 'post',
    path: '/evaluations/:id/score',
    access: 'signed-in',
    handle: async (ctx) => {
      const { t } = ctx;
      const id = roundIdOf(ctx);
      const round = await services.evaluations.getRound(ctx.principal!, id);
      const group = field(ctx.form, 'group');
      const parsed = parseScores(ctx.form, round);
      const fail = (
        status: number,
        message: string,
        details: Array<{ path: string; message: string }>,
        errors: Set<string>,
      ) =>
        scorePage(ctx, id, {
          values: ctx.form,
          problems: { message, details },
          errors,
          status,
        });
      if (parsed.incomplete.length > 0) {
        return fail(
          422,
          t('report.eval.incomplete'),
          parsed.incomplete.map((item) => ({ path: item, message: t('report.eval.allCriteria') })),
          new Set(parsed.incomplete),
        );
      }
      if (parsed.scores.length === 0) return fail(422, t('report.eval.noneGiven'), [], new Set());
      try {
        const result = await services.evaluations.submitScores(
          ctx.principal!,
          id,
          { ...(group ? { group } : {}), scores: parsed.scores },
          idempotencyKeyOf(field(ctx.form, 'requestKey')),
        );
        const back = new URLSearchParams({
          group: result.group,
          page: String(pageOf({ page: field(ctx.form, 'page') })),
          saved: String(result.recorded),
        });
        return { redirect: `${roundHref(id, '/score')}?${back.toString()}` };
      } catch (err) {
        if (!(err instanceof AppError) || err.kind === 'not_found') throw err;
        // `body.scores[2].values.quality` names the order it is about.
        const errors = new Set<string>();
        const details = err.details.map((d) => {
          const index = /scores\[(\d+)\]/.exec(d.path);
          const item = index ? parsed.scores[Number(index[1])]?.item : undefined;
          if (item) errors.add(item);
          return { path: item ?? d.path, message: d.message };
        });
        return fail(err.status, err.message, details, errors);
      }
    },
  });

  pages.add({
    method: 'get',
    path: '/evaluations/:id/results.csv',
    access: ['admin', 'dispatcher', 'staff'],
    limit: 'export',
    handle: async (ctx) => {
      const id = roundIdOf(ctx);
      const results = await services.evaluations.results(ctx.principal!, id);
      return {
        download: {
          filename: `evaluation-${id}.csv`,
          contentType: 'text/csv; charset=utf-8',
          body: services.evaluations.resultsCsv(results),
        },
      };
    },
  });
}
