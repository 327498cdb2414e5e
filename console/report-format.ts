import { BEIJING_OFFSET_MS } from '../lang/beijing';
import { pageNumber } from './format';
import type { Translate } from './i18n';

/**
 * Small formatting and parsing helpers of the report pages (dashboards, board, evaluations,
 * emergency roll-calls): shares, scores, durations, periods, paging and form keys.
 */

/** A share (0–1) as a percentage with at most one decimal: `66.7%`, `100%`; `—` when null. */
export function percent(value: number | null | undefined, missing = '—'): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return missing;
  const rounded = Math.round(value * 1000) / 10;
  return `${Number.isInteger(rounded) ? rounded : rounded.toFixed(1)}%`;
}

/** A score or mean with two decimals; `—` when null. */
export function decimal2(value: number | null | undefined, missing = '—'): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return missing;
  return value.toFixed(2);
}

export { durationText } from './format';

/** A period label of the metrics API (`2026`, `2026-H1`, `2026-Q3`, `2026-05`) in words. */
export function periodName(label: string, t: Translate): string {
  const match = /^(\d{4})(?:-(H[12]|Q[1-4]|\d{2}))?$/.exec(label);
  if (!match) return label;
  const year = match[1]!;
  const part = match[2];
  if (part === undefined) return t('report.period.year', { year });
  if (part === 'H1') return t('report.period.h1', { year });
  if (part === 'H2') return t('report.period.h2', { year });
  if (part.startsWith('Q')) return t('report.period.quarter', { year, q: part.slice(1) });
  return t('report.period.month', { year, m: Number(part), mm: part });
}

export interface Choice {
  value: string;
  label: string;
  selected: boolean;
}

export interface ChoiceGroup {
  label: string;
  options: Choice[];
}

/**
 * The periods a dashboard offers: this year and the two before, each as the year, its halves,
 * quarters and months (months of the current year up to the current one).
 */
export function periodChoices(now: Date, selected: string, t: Translate): ChoiceGroup[] {
  const local = new Date(now.getTime() + BEIJING_OFFSET_MS);
  const thisYear = local.getUTCFullYear();
  const thisMonth = local.getUTCMonth() + 1;
  const groups: ChoiceGroup[] = [];
  for (let year = thisYear; year > thisYear - 3; year--) {
    const labels = [
      `${year}`,
      `${year}-H1`,
      `${year}-H2`,
      `${year}-Q1`,
      `${year}-Q2`,
      `${year}-Q3`,
      `${year}-Q4`,
    ];
    const lastMonth = year === thisYear ? thisMonth : 12;
    for (let m = 1; m <= lastMonth; m++) labels.push(`${year}-${String(m).padStart(2, '0')}`);
    groups.push({
      label: t('report.period.year', { year }),
      options: labels.map((value) => ({
        value,
        label: periodName(value, t),
        selected: value === selected,
      })),
    });
  }
  return groups;
}

/** The Beijing months (`2026-05`) from `from` (inclusive) to `to` (exclusive), at most 60. */
export function monthsBetween(fromIso: string, toIso: string): string[] {
  const from = new Date(Date.parse(fromIso) + BEIJING_OFFSET_MS);
  const to = new Date(Date.parse(toIso) - 1 + BEIJING_OFFSET_MS);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || to < from) return [];
  const months: string[] = [];
  let year = from.getUTCFullYear();
  let month = from.getUTCMonth();
  const lastYear = to.getUTCFullYear();
  const lastMonth = to.getUTCMonth();
  while ((year < lastYear || (year === lastYear && month <= lastMonth)) && months.length < 60) {
    months.push(`${year}-${String(month + 1).padStart(2, '0')}`);
    month += 1;
    if (month === 12) [year, month] = [year + 1, 0];
  }
  return months;
}

/** The last Beijing day of a period whose `to` is exclusive. */
export function lastDayOf(toIso: string): string {
  const at = Date.parse(toIso);
  if (Number.isNaN(at)) return '';
  return new Date(at - 1 + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

/** The first Beijing day of an instant. */
export function dayOf(iso: string): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return '';
  return new Date(at + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

/** `?page=` as a page number from 1 (see pageNumber). */
export function pageOf(query: Record<string, string>): number {
  return pageNumber(query.page);
}

/** Unit ids as the API takes them. */
export const UNIT_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Case ids as the API makes them. */
export const CASE_ID = /^case-[0-9a-f]{24}$/;

/** A case status in words (the known ones; anything else as is). */
export function statusName(status: string, t: Translate): string {
  return ['open', 'closed', 'rejected', 'cancelled', 'failed'].includes(status)
    ? t(`report.caseStatus.${status}`)
    : status;
}
