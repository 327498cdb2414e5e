import type { CaseSummary, CaseView } from '../services/cases';
import type { TaskView } from '../services/tasks';
import type { UnitDirectory } from '../services/unit-directory';
import type { DeadlineView } from '../common/case';
import type { FieldSpec } from '../lang/definition';
import type { SlaBadge } from './format';
import { formatInstant, slaBadge } from './format';
import type { Translate } from './i18n';
import { hasMessage } from './i18n';

/** View models shared by the inbox, the task page, the case pages and the resident's pages. */

export function unitName(units: UnitDirectory, unitId: string | null): string {
  if (!unitId) return '';
  return units.byId.get(unitId)?.name ?? unitId;
}

/** "文化路社区 / 第一网格": the unit with its parent, enough to place it. */
export function unitPath(units: UnitDirectory, unitId: string | null): string {
  if (!unitId) return '';
  const unit = units.byId.get(unitId);
  if (!unit) return unitId;
  const parent = unit.parentId ? units.byId.get(unit.parentId) : undefined;
  return parent ? `${parent.name} / ${unit.name}` : unit.name;
}

export function statusLabel(t: Translate, status: string): string {
  return t(`status.${status}`);
}

export interface TaskRow {
  id: string;
  name: string;
  caseId: string;
  definitionKey: string;
  /** The process's name where the caller knows it, else its key. */
  processName: string;
  unit: string;
  status: string;
  statusLabel: string;
  sla: SlaBadge;
  openedAt: string;
  claimable: boolean;
}

export function taskRow(
  task: TaskView,
  ctx: {
    t: Translate;
    now: Date;
    units: UnitDirectory;
    userId: string | null;
    processNames?: ReadonlyMap<string, string>;
  },
): TaskRow {
  return {
    id: task.id,
    name: task.name,
    caseId: task.caseId,
    definitionKey: task.definitionKey,
    processName: ctx.processNames?.get(task.definitionKey) ?? task.definitionKey,
    unit: unitPath(ctx.units, task.caseUnitId),
    status: task.status,
    statusLabel: statusLabel(ctx.t, task.status),
    sla: slaBadge(
      task.status === 'open' || task.status === 'claimed' ? task.dueAt : null,
      ctx.now,
      ctx.t,
    ),
    openedAt: formatInstant(task.openedAt),
    claimable:
      task.status === 'open' &&
      ctx.userId !== null &&
      task.candidates.some((c) => c.userId === ctx.userId) &&
      !task.claimants.some((c) => c.userId === ctx.userId),
  };
}

export interface CaseRow {
  id: string;
  name: string;
  category: string | null;
  unit: string;
  status: string;
  statusLabel: string;
  step: string;
  createdAt: string;
  closedAt: string;
}

export function caseRow(c: CaseSummary, ctx: { t: Translate; units: UnitDirectory }): CaseRow {
  return {
    id: c.id,
    name: c.definition.name,
    category: c.category,
    unit: unitPath(ctx.units, c.unitId),
    status: c.status,
    statusLabel: statusLabel(ctx.t, c.status),
    step: c.currentStep?.name ?? '',
    createdAt: formatInstant(c.createdAt),
    closedAt: formatInstant(c.closedAt),
  };
}

export interface DeadlineRow {
  name: string;
  /** Counting down now: not met, not paused. */
  running: boolean;
  sla: SlaBadge;
  state: string;
  escalationLevel: number;
  /** The deadline crosses years the calendar lacks (counted as normal weeks); null if none. */
  assumedNotice: string | null;
}

export function deadlineRows(
  deadlines: readonly DeadlineView[],
  t: Translate,
  now: Date,
): DeadlineRow[] {
  return deadlines.map((d) => ({
    name: d.name,
    running: !d.stopped && !d.paused && d.dueAt !== null,
    sla: slaBadge(d.dueAt, now, t),
    // A clock stopped after its deadline passed was met late, not on time (the API says missed).
    state: d.stopped
      ? t(d.missed ? 'deadline.metLate' : 'deadline.met')
      : d.paused
        ? t('deadline.paused')
        : d.missed
          ? t('deadline.missed')
          : t('deadline.running'),
    escalationLevel: d.escalationLevel,
    assumedNotice:
      d.assumedYears && d.assumedYears.length > 0
        ? t('deadline.assumedYears', { years: d.assumedYears.join('、') })
        : null,
  }));
}

/** The case's data as label/value pairs, in the order of the definition's fields. */
export function dataRows(
  fields: readonly FieldSpec[],
  data: Record<string, unknown>,
  units: UnitDirectory,
  t: Translate,
): Array<{ label: string; value: string }> {
  const rows: Array<{ label: string; value: string }> = [];
  for (const field of fields) {
    const value = data[field.name];
    if (value === undefined || value === null || value === '') continue;
    rows.push({ label: field.label, value: displayValue(field, value, units, t) });
  }
  return rows;
}

function displayValue(
  field: FieldSpec,
  value: unknown,
  units: UnitDirectory,
  t: Translate,
): string {
  if (Array.isArray(value)) return value.map((v) => displayValue(field, v, units, t)).join('、');
  if (typeof value === 'boolean') return value ? t('common.yes') : t('common.no');
  if (field.type === 'unit' && typeof value === 'string') return unitPath(units, value);
  if (field.type === 'datetime' && typeof value === 'string') return formatInstant(value);
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  return JSON.stringify(value) ?? '';
}

export interface TimelineRow {
  at: string;
  what: string;
  step: string;
  who: string;
  via: string;
  detail: string;
}

/** The timeline in words: what happened, at which step, by whom, from where. */
/** A check-in (签到) in words: its distance against the limit (flagged beyond it), or why none. */
export function checkInText(
  checkIn: {
    accuracy: number;
    distance?: number | null;
    limit?: number | null;
    within?: boolean | null;
  },
  t: Translate,
): string {
  const acc = String(checkIn.accuracy);
  const d = checkIn.distance;
  if (d === null || d === undefined) return t('checkIn.noPlace', { acc });
  if (checkIn.limit === null || checkIn.limit === undefined || checkIn.within === null) {
    return t('checkIn.distance', { d: String(d), acc });
  }
  return t(checkIn.within ? 'checkIn.within' : 'checkIn.beyond', {
    d: String(d),
    limit: String(checkIn.limit),
    acc,
  });
}

export function timelineRows(
  view: CaseView,
  stepNames: ReadonlyMap<string, string>,
  t: Translate,
): TimelineRow[] {
  return view.timeline.map((entry) => ({
    at: formatInstant(entry.at),
    what: hasMessage(`event.${entry.type}`) ? t(`event.${entry.type}`) : entry.type,
    step: entry.stepId ? (stepNames.get(entry.stepId) ?? entry.stepId) : '',
    who:
      entry.actor.kind === 'system' || entry.actor.kind === 'engine'
        ? t('timeline.engine')
        : entry.actor.id,
    via: entry.via ?? '',
    detail: entry.detail
      ? entry.type === 'task.checked-in'
        ? checkInText(checkInDetailOf(entry.detail), t)
        : Object.entries(entry.detail)
            .map(([k, v]) => `${k}: ${String(v)}`)
            .join(', ')
      : '',
  }));
}

/** A `task.checked-in` entry's detail (its keys are absent when they do not apply). */
function checkInDetailOf(detail: Record<string, unknown>) {
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  return {
    accuracy: num(detail.accuracy) ?? 0,
    distance: num(detail.distance),
    limit: num(detail.limit),
    within: typeof detail.within === 'boolean' ? detail.within : null,
  };
}
