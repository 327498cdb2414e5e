import { BEIJING_OFFSET_MS } from '../common/beijing';
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
  const span = spanText(Math.abs(left), t);
  return left <= 0 ? t('sla.overdueBy', { span }) : t('sla.dueIn', { span });
}

function spanText(ms: number, t: Translate): string {
  const minutes = Math.floor(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return t('sla.daysHours', { d: days, h: hours });
  if (hours > 0) return t('sla.hoursMinutes', { h: hours, m: mins });
  return t('sla.minutes', { m: mins });
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

/** Page links keep the other query parameters; pages count from 1. */
export interface Pager {
  page: number;
  pages: number;
  total: number;
  prev: string | null;
  next: string | null;
}

export function pagerOf(
  basePath: string,
  query: Record<string, string | undefined>,
  page: number,
  pageSize: number,
  total: number,
): Pager {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const link = (p: number) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v && k !== 'page') params.set(k, v);
    params.set('page', String(p));
    return `${basePath}?${params.toString()}`;
  };
  return {
    page,
    pages,
    total,
    prev: page > 1 ? link(page - 1) : null,
    next: page < pages ? link(page + 1) : null,
  };
}
