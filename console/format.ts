import { BEIJING_OFFSET_MS } from '../lang/beijing';
import type { Translate } from './i18n';

/** `2026-11-22 14:05`, Beijing time: the console shows local times the way offices write them. */
export function formatInstant(iso: string | Date | null | undefined): string {
  if (iso === null || iso === undefined) return '';
  const at = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(at.getTime())) return '';
  const local = new Date(at.getTime() + BEIJING_OFFSET_MS).toISOString();
  return `${local.slice(0, 10)} ${local.slice(11, 16)}`;
}

export function formatDate(iso: string | Date | null | undefined): string {
  return formatInstant(iso).slice(0, 10);
}

export type Urgency = 'overdue' | 'urgent' | 'soon' | 'ok' | 'none';

/** Due within two hours is urgent, within a day soon: the colours of an SLA countdown. */
export function urgencyOf(dueAt: string | null, now: Date): Urgency {
  if (!dueAt) return 'none';
  const left = new Date(dueAt).getTime() - now.getTime();
  if (left <= 0) return 'overdue';
  if (left <= 2 * 3_600_000) return 'urgent';
  if (left <= 24 * 3_600_000) return 'soon';
  return 'ok';
}

/** "due in 3 h 20 min" / "overdue by 2 d 4 h", in the page's language. */
export function countdown(dueAt: string | null, now: Date, t: Translate): string {
  if (!dueAt) return t('sla.none');
  const left = new Date(dueAt).getTime() - now.getTime();
  const span = durationText(Math.floor(Math.abs(left) / 60_000), t);
  return left <= 0 ? t('sla.overdueBy', { span }) : t('sla.dueIn', { span });
}

/** Whole minutes as "2天3小时" / "2 d 3 h" (the SLA countdown's wording); `—` when null. */
export function durationText(minutes: number | null | undefined, t: Translate): string {
  if (minutes === null || minutes === undefined || !Number.isFinite(minutes)) return '—';
  const whole = Math.max(0, Math.round(minutes));
  const days = Math.floor(whole / 1440);
  const hours = Math.floor((whole % 1440) / 60);
  const mins = whole % 60;
  if (days > 0) return t('sla.daysHours', { d: days, h: hours });
  if (hours > 0) return t('sla.hoursMinutes', { h: hours, m: mins });
  return t('sla.minutes', { m: mins });
}

/** A `?page=` value as a page number from 1 (anything else is page 1; at most 10 000). */
export function pageNumber(value: string | undefined): number {
  const page = Number(value);
  return Number.isInteger(page) && page >= 1 ? Math.min(page, 10_000) : 1;
}

/** A countdown as views show it: text, colour class and the instant for the live update. */
export interface SlaBadge {
  text: string;
  urgency: Urgency;
  dueAt: string | null;
  dueAtLocal: string;
}

export function slaBadge(dueAt: string | null, now: Date, t: Translate): SlaBadge {
  return {
    text: countdown(dueAt, now, t),
    urgency: urgencyOf(dueAt, now),
    dueAt,
    dueAtLocal: formatInstant(dueAt),
  };
}

/**
 * Page links keep the other query parameters; pages count from 1. `param` names the page
 * parameter when a page has a second list (`postsPage`).
 */
export interface Pager {
  page: number;
  pages: number;
  total: number;
  /** The total is an estimate (a list read day by day that stopped before its end). */
  estimated: boolean;
  prev: string | null;
  next: string | null;
}

export function pagerOf(
  basePath: string,
  query: Record<string, string | undefined>,
  page: number,
  pageSize: number,
  total: number,
  param = 'page',
  estimated = false,
): Pager {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const link = (p: number) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v && k !== param) params.set(k, v);
    params.set(param, String(p));
    return `${basePath}?${params.toString()}`;
  };
  return {
    page,
    pages,
    total,
    estimated,
    prev: page > 1 ? link(page - 1) : null,
    next: page < pages ? link(page + 1) : null,
  };
}
