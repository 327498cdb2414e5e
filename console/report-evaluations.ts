import type { ResultsView, RoundProgress, RoundSummary, RoundView } from '../services/evaluations';
import type { UnitDirectory } from '../services/unit-directory';
import type { ResultFigures } from '../common/evaluation';
import { SCORE_MAX, SCORE_MIN } from '../common/evaluation';
import { barChart } from './charts';
import { formatInstant } from './format';
import type { Translate } from './i18n';
import { BASE, field } from './pipeline';
import { dayOf, decimal2, lastDayOf } from './report-format';
import { nameOf } from './report-units';

/**
 * Evaluation rounds (评单评议) as the console shows them: the list, a round's facts and progress,
 * the score form's rows and the frozen results with a chart. Pure view models; the page handlers
 * in pages/evaluations.ts call the service.
 */

export const ROUNDS = `${BASE}/evaluations`;

export function roundHref(id: string, suffix = ''): string {
  return `${ROUNDS}/${id}${suffix}`;
}

export function roundStatusName(status: string, t: Translate): string {
  return status === 'open' ? t('report.eval.status.open') : t('report.eval.status.closed');
}

export function periodText(period: { from: string; to: string }): string {
  return `${dayOf(period.from)} – ${lastDayOf(period.to)}`;
}

export function summaryRow(round: RoundSummary, tree: UnitDirectory, t: Translate) {
  return {
    id: round.id,
    href: roundHref(round.id),
    name: round.name,
    unitName: nameOf(tree, round.unitId) || t('report.eval.wholeTree'),
    period: periodText(round.period),
    status: round.status,
    statusName: roundStatusName(round.status, t),
    closesAt: formatInstant(round.closedAt ?? round.closesAt),
    itemCount: round.itemCount,
    role: round.supervisor ? t('report.eval.role.supervisor') : t('report.eval.role.scorer'),
  };
}

export function roundFacts(round: RoundView, tree: UnitDirectory, t: Translate) {
  return {
    id: round.id,
    unitName: nameOf(tree, round.unitId) || t('report.eval.wholeTree'),
    status: round.status,
    statusName: roundStatusName(round.status, t),
    period: periodText(round.period),
    openedAt: formatInstant(round.openedAt),
    closesAt: formatInstant(round.closesAt),
    closedAt: formatInstant(round.closedAt),
    itemCount: round.itemCount,
    criteria: round.criteria.map((c) => c.name).join('、'),
    groups: round.groups.map((g) => ({
      name: g.name,
      weight: g.weight,
      who: g.requester
        ? t('report.eval.requesterGroup')
        : t('report.eval.scorerCount', { n: g.scorers }),
      rating: round.orderRatingGroup === g.id,
    })),
  };
}

export function progressView(progress: RoundProgress, t: Translate) {
  return {
    items: progress.items,
    scoredItems: progress.scoredItems,
    share:
      progress.items > 0 ? `${Math.round((progress.scoredItems / progress.items) * 100)}%` : '—',
    groups: progress.groups.map((g) => ({
      name: g.name,
      requester: g.requester,
      scores: g.scores,
      scoredItems: g.scoredItems,
      scorers: g.scorers.map((s) => ({
        name: s.name,
        scores: s.scores,
        done: s.scores > 0,
        note: s.hasAccount ? '' : t('report.eval.noAccount'),
      })),
      waiting: g.scorers.filter((s) => s.scores === 0).length,
    })),
  };
}

/** The rows of a supervisor's order table: the scores each group gave each order. */
export function orderRows(
  round: RoundView,
  items: RoundView['items'],
  progress: RoundProgress | null,
  tree: UnitDirectory,
) {
  return items.map((item) => ({
    id: item.id,
    href: `${BASE}/cases/${item.id}`,
    process: item.definitionName,
    category: item.category ?? '',
    unitName: nameOf(tree, item.unitId),
    closedAt: formatInstant(item.closedAt),
    counts: round.groups.map((g) => progress?.byItem[item.id]?.[g.id] ?? 0),
  }));
}

export const SCORE_VALUES: number[] = Array.from(
  { length: SCORE_MAX - SCORE_MIN + 1 },
  (_, i) => SCORE_MAX - i,
);

/** A score field's name: `v:<order>:<criterion>`. */
export function scoreField(itemId: string, criterion: string): string {
  return `v:${itemId}:${criterion}`;
}

export function commentField(itemId: string): string {
  return `c:${itemId}`;
}

/** The rows of the score form: a select per criterion, prefilled from the post or the own score. */
export function scoreRows(
  round: RoundView,
  items: RoundView['items'],
  group: string,
  posted: Record<string, string | string[]> | null,
  tree: UnitDirectory,
  errors: ReadonlySet<string>,
) {
  return items.map((item) => {
    const own = item.myScore && item.myScore.group === group ? item.myScore.values : null;
    return {
      id: item.id,
      process: item.definitionName,
      category: item.category ?? '',
      unitName: nameOf(tree, item.unitId),
      closedAt: formatInstant(item.closedAt),
      scoredAt: item.myScore && item.myScore.group === group ? formatInstant(item.myScore.at) : '',
      error: errors.has(item.id),
      criteria: round.criteria.map((c) => {
        const name = scoreField(item.id, c.id);
        const postedValue = posted ? posted[name] : undefined;
        const value =
          typeof postedValue === 'string'
            ? postedValue
            : own && typeof own[c.id] === 'number'
              ? String(own[c.id])
              : '';
        return {
          id: c.id,
          label: c.name,
          field: name,
          inputId: `s-${item.id}-${c.id}`,
          options: SCORE_VALUES.map((v) => ({ value: String(v), selected: String(v) === value })),
        };
      }),
      comment: {
        field: commentField(item.id),
        inputId: `s-${item.id}-comment`,
        value:
          posted && typeof posted[commentField(item.id)] === 'string'
            ? posted[commentField(item.id)]
            : '',
      },
    };
  });
}

function figureCells(f: ResultFigures) {
  return {
    items: f.items,
    scored: f.scored,
    missing: f.missing,
    score: decimal2(f.score),
    groups: f.groups.map((g) => decimal2(g.mean)),
    criteria: f.criteria.map((c) => decimal2(c.mean)),
  };
}

export function resultsView(results: ResultsView, t: Translate) {
  const chart = barChart(
    {
      title: t('report.eval.chartTitle'),
      description: t('report.eval.chartDesc'),
      categoryLabel: t('report.col.unit'),
      categories: results.units.map((u) => u.name),
      series: [{ name: t('report.eval.score'), values: results.units.map((u) => u.score) }],
    },
    {
      orientation: 'horizontal',
      max: SCORE_MAX,
      format: (v) => (Number.isInteger(v) ? String(v) : v.toFixed(2)),
      noData: t('report.eval.noScores'),
    },
  );
  return {
    closedAt: formatInstant(results.closedAt),
    groups: results.groups.map((g) => t('report.eval.groupWeight', { name: g.name, w: g.weight })),
    criteria: results.criteria.map((c) => c.name),
    overall: figureCells(results.overall),
    units: results.units.map((u) => ({
      name: u.name,
      parentName: u.parentName ?? '',
      ...figureCells(u),
    })),
    secretaries: results.secretaries.map((s) => ({
      name: s.name,
      units: s.units.map((u) => u.name).join('、'),
      ...figureCells(s),
    })),
    servedUnits: results.servedUnits.map((u) => ({
      name: u.name,
      parentName: u.parentName ?? '',
      ...figureCells(u),
    })),
    servedPeople: results.servedPeople.map((p) => ({ name: p.name, ...figureCells(p) })),
    // The 评单会 recorded by each community's host (meeting groups).
    meetings: results.meetings.map((m) => ({
      group: results.groups.find((g) => g.id === m.group)?.name ?? m.group,
      unitName: m.unitName,
      heldOn: m.heldOn,
      representatives: m.representatives,
      residents: m.residents,
      orders: m.orders,
      hostName: m.hostName,
      minutes: m.minutes,
    })),
    chart,
  };
}

/**
 * The posted score selects as the service takes them: an order with every criterion given is a
 * score, one with none is skipped, one with some is incomplete (named, not sent).
 */
export function parseScores(
  form: Record<string, string | string[]>,
  round: RoundView,
): {
  scores: Array<{ item: string; values: Record<string, number>; comment?: string }>;
  incomplete: string[];
} {
  const scores: Array<{ item: string; values: Record<string, number>; comment?: string }> = [];
  const incomplete: string[] = [];
  const items = new Set<string>();
  for (const key of Object.keys(form)) {
    const match = /^v:(case-[0-9a-f]{24}):/.exec(key);
    if (match) items.add(match[1]!);
  }
  for (const item of [...items].slice(0, 200)) {
    const values: Record<string, number> = {};
    let given = 0;
    for (const c of round.criteria) {
      const raw = field(form, `v:${item}:${c.id}`).trim();
      if (raw === '') continue;
      const value = Number(raw);
      if (!Number.isInteger(value) || value < SCORE_MIN || value > SCORE_MAX) continue;
      values[c.id] = value;
      given += 1;
    }
    if (given === 0) continue;
    if (given < round.criteria.length) {
      incomplete.push(item);
      continue;
    }
    const comment = field(form, `c:${item}`).trim().slice(0, 500);
    scores.push({ item, values, ...(comment ? { comment } : {}) });
  }
  return { scores, incomplete };
}
