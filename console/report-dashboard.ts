import type { Figures, Ranking, RankingKey, UnitMetrics } from '../services/metrics';
import type { Chart } from './charts';
import { barChart, lineChart } from './charts';
import type { Translate } from './i18n';
import { decimal2, durationText, monthsBetween, percent } from './report-format';

/**
 * The dashboard's figures as the view shows them: summary cards, the four charts (each with its
 * table) and the rows of the child-unit and ranking tables. Pure: the page handler fetches, this
 * arranges.
 */

export const RATE_KEYS = [
  'acceptanceRate',
  'responseRate',
  'completionRate',
  'resolutionRate',
  'onTimeRate',
  'satisfactionRate',
  'participationRate',
  'visitRate',
  'disputeResolutionRate',
  'supervisionRate',
  'returnRate',
  'overdueRate',
] as const;

export interface DashboardChart extends Chart {
  id: string;
  heading: string;
  note: string;
}

export interface Card {
  label: string;
  value: string;
  hint: string;
}

export function cardsOf(totals: Figures, t: Translate): Card[] {
  return [
    {
      label: t('report.fig.received'),
      value: String(totals.received),
      hint: t('report.fig.acceptedHint', { n: totals.accepted }),
    },
    {
      label: t('report.fig.completed'),
      value: String(totals.completed),
      hint: t('report.rate.completionRate') + ' ' + percent(totals.rates.completionRate),
    },
    {
      label: t('report.fig.overdue'),
      value: String(totals.overdue),
      hint: t('report.rate.overdueRate') + ' ' + percent(totals.rates.overdueRate),
    },
    {
      label: t('report.rate.satisfactionRate'),
      value: percent(totals.rates.satisfactionRate),
      hint: t('report.fig.ratedHint', { n: totals.rated, missing: totals.ratingMissing }),
    },
    {
      label: t('report.fig.score'),
      value: decimal2(totals.averages.score),
      hint: t('report.fig.scoreHint'),
    },
    {
      label: t('report.fig.responseTime'),
      value: durationText(totals.averages.responseMinutes, t),
      hint: t('report.fig.responseTimeHint'),
    },
    {
      label: t('report.fig.handlingTime'),
      value: durationText(totals.averages.handlingMinutes, t),
      hint: t('report.fig.handlingTimeHint'),
    },
  ];
}

/** 未诉先办: the proactive cases opened in the period, and how many were closed in it. */
export function proactiveCard(proactive: UnitMetrics['proactive'], t: Translate): Card {
  return {
    label: t('report.fig.proactive'),
    value: String(proactive.opened),
    hint: t('report.fig.proactiveHint', { n: proactive.closed }),
  };
}

/** 随手报: the cases mobile grid members reported in the period, and how many were closed in it. */
export function quickReportCard(quick: UnitMetrics['quickReports'], t: Translate): Card {
  return {
    label: t('report.fig.quickReports'),
    value: String(quick.received),
    hint: t('report.fig.quickReportsHint', { n: quick.closed }),
  };
}

/** Received, completed and overdue per month of the period, months without cases as 0. */
export function trendChart(metrics: UnitMetrics, t: Translate): DashboardChart {
  const byMonth = new Map(metrics.months.map((m) => [m.month, m]));
  const months = monthsBetween(metrics.period.from, metrics.period.to);
  // Months the service knows outside the computed range (never, but keep them rather than hide).
  for (const m of metrics.months) if (!months.includes(m.month)) months.push(m.month);
  months.sort();
  const pick = (key: 'received' | 'completed' | 'overdue') =>
    months.map((m) => byMonth.get(m)?.[key] ?? 0);
  const data = {
    title: t('report.chart.trend', { unit: metrics.unit.name }),
    description: t('report.chart.trendDesc'),
    categoryLabel: t('report.col.month'),
    categories: months,
    series: [
      { name: t('report.fig.received'), values: pick('received') },
      { name: t('report.fig.completed'), values: pick('completed') },
      { name: t('report.fig.overdue'), values: pick('overdue') },
    ],
  };
  const options = { integer: true, noData: t('report.chart.noData') };
  const chart =
    months.length > 1 ? lineChart(data, options) : barChart(data, { ...options, width: 420 });
  return { ...chart, id: 'chart-trend', heading: data.title, note: t('report.chart.trendNote') };
}

/** The shares (rates) of the unit with everything below it. */
export function ratesChart(metrics: UnitMetrics, t: Translate): DashboardChart {
  const data = {
    title: t('report.chart.rates', { unit: metrics.unit.name }),
    description: t('report.chart.ratesDesc'),
    categoryLabel: t('report.col.rate'),
    categories: RATE_KEYS.map((k) => t(`report.rate.${k}`)),
    series: [
      {
        name: t('report.col.share'),
        values: RATE_KEYS.map((k) => metrics.totals.rates[k]),
      },
    ],
  };
  const chart = barChart(data, {
    orientation: 'horizontal',
    max: 1,
    format: (v) => percent(v),
    noData: t('report.chart.noData'),
  });
  return { ...chart, id: 'chart-rates', heading: data.title, note: t('report.chart.ratesNote') };
}

/** Satisfaction (rated 4–5 of the rated) per child unit. */
export function satisfactionChart(metrics: UnitMetrics, t: Translate): DashboardChart {
  const data = {
    title: t('report.chart.satisfaction'),
    description: t('report.chart.satisfactionDesc'),
    categoryLabel: t('report.col.unit'),
    categories: metrics.children.map((c) => c.unit.name),
    series: [
      {
        name: t('report.rate.satisfactionRate'),
        values: metrics.children.map((c) => c.rates.satisfactionRate),
      },
    ],
  };
  const chart = barChart(data, {
    orientation: 'horizontal',
    max: 1,
    format: (v) => percent(v),
    noData: metrics.children.length === 0 ? t('report.chart.noUnits') : t('report.chart.noData'),
  });
  return {
    ...chart,
    id: 'chart-satisfaction',
    heading: data.title,
    note: t('report.chart.satisfactionNote'),
  };
}

/** Overdue cases per child unit, beside what each received. */
export function overdueChart(metrics: UnitMetrics, t: Translate): DashboardChart {
  const data = {
    title: t('report.chart.overdue'),
    description: t('report.chart.overdueDesc'),
    categoryLabel: t('report.col.unit'),
    categories: metrics.children.map((c) => c.unit.name),
    series: [
      { name: t('report.fig.overdue'), values: metrics.children.map((c) => c.overdue) },
      { name: t('report.fig.received'), values: metrics.children.map((c) => c.received) },
    ],
  };
  const chart = barChart(data, {
    orientation: 'horizontal',
    integer: true,
    noData: metrics.children.length === 0 ? t('report.chart.noUnits') : t('report.chart.noData'),
  });
  return { ...chart, id: 'chart-overdue', heading: data.title, note: '' };
}

export interface FigureRow {
  unitId: string;
  name: string;
  href: string;
  received: number;
  completed: number;
  overdue: number;
  completionRate: string;
  onTimeRate: string;
  satisfactionRate: string;
  score: string;
}

export function figureRow(
  unit: { id: string; name: string },
  figures: Figures,
  href: string,
): FigureRow {
  return {
    unitId: unit.id,
    name: unit.name,
    href,
    received: figures.received,
    completed: figures.completed,
    overdue: figures.overdue,
    completionRate: percent(figures.rates.completionRate),
    onTimeRate: percent(figures.rates.onTimeRate),
    satisfactionRate: percent(figures.rates.satisfactionRate),
    score: decimal2(figures.averages.score),
  };
}

/** The ranked value of a row as the table shows it. */
export function rankedValue(figures: Figures, by: RankingKey): string {
  if (by === 'received') return String(figures.received);
  if (by === 'averageScore') return decimal2(figures.averages.score);
  return percent(figures.rates[by]);
}

export function rankingRows(
  ranking: Ranking,
  hrefOf: (unitId: string) => string,
): Array<FigureRow & { rank: string; value: string }> {
  return ranking.items.map((item) => ({
    ...figureRow(item.unit, item, hrefOf(item.unit.id)),
    rank: item.rank === null ? '—' : String(item.rank),
    value: rankedValue(item, ranking.by),
  }));
}
