import { childrenByParent, unitsAtOrBelow } from '../common/org-tree';
import type { OpenItem, OpenItemsResult } from '../lang/lookup';
import { MAX_LOOKUP_SUMMARY, MAX_OPEN_ITEMS_LISTED } from '../lang/lookup';
import type { ActivityDependencies } from './dependencies';

/**
 * The `lookup` step's `open-items` source (联席会议议题：无人认领和逾期事项): for the case's unit
 * and the units under it, the demands nobody claimed (a claim step's task still `open` with no
 * claimant) and the open cases with a deadline missed (`metrics.overdue`, written by the
 * projection). One query per unit of the subtree and kind, each led by a top-level equality
 * FerretDB v1 pushes down (tasks: `caseUnitId`; cases: `unitId`), never a whole collection (an
 * `$in` of the units is not pushed down); a subtree of more than MAX_UNITS_READ units (a county)
 * is refused: start the case for a street or a community. Ids, processes and figures only: no
 * resident's data reaches the case.
 */

/**
 * The most units one read walks (chosen: a street's communities, grids, compounds and
 * co-building units are a few dozen to a couple of hundred; two indexed queries each).
 */
export const MAX_UNITS_READ = 300;

/** Open tasks or overdue cases one unit's read takes at most (chosen: far above a community's). */
export const MAX_READ_PER_UNIT = 2_000;

const DAY_MS = 24 * 3600_000;

export interface ReadOpenItemsRequest {
  caseId: string;
  /** The case's unit (the convening community): its subtree is read. */
  unitId: string | null;
  /** When the step ran (the workflow's clock, ISO): days waiting and overdue count to it. */
  at: string;
}

export type ReadOpenItemsResult =
  | { refused: false; result: OpenItemsResult }
  | { refused: true; reason: 'no-unit' | 'too-many-units' | 'too-many-items'; count: number };

export function createOpenItemActivities(deps: ActivityDependencies) {
  const { Case, Task, Unit } = deps.models;
  return {
    /** The open items of the case's unit's subtree (see the top). */
    async readOpenItems(request: ReadOpenItemsRequest): Promise<ReadOpenItemsResult> {
      if (request.unitId === null) return { refused: true, reason: 'no-unit', count: 0 };
      const units = await Unit.find({}, { _id: 1, parentId: 1 }).lean();
      const ids = [
        ...unitsAtOrBelow(
          childrenByParent(units.map((u) => ({ id: u._id, parentId: u.parentId ?? null }))),
          [request.unitId],
        ),
      ].sort();
      if (ids.length > MAX_UNITS_READ) {
        return { refused: true, reason: 'too-many-units', count: ids.length };
      }
      const now = Date.parse(request.at);
      const unclaimed: OpenItem[] = [];
      const overdue: OpenItem[] = [];
      for (const unitId of ids) {
        const tasks = await Task.find(
          { caseUnitId: unitId, kind: 'claim', status: 'open' },
          { caseId: 1, definitionKey: 1, caseUnitId: 1, claimants: 1, openedAt: 1 },
        )
          .limit(MAX_READ_PER_UNIT + 1)
          .lean();
        const cases = await Case.find(
          { unitId, status: 'open', 'metrics.overdue': 1 },
          { definitionKey: 1, unitId: 1, deadlines: 1 },
        )
          .limit(MAX_READ_PER_UNIT + 1)
          .lean();
        if (tasks.length > MAX_READ_PER_UNIT || cases.length > MAX_READ_PER_UNIT) {
          return { refused: true, reason: 'too-many-items', count: MAX_READ_PER_UNIT };
        }
        for (const t of tasks) {
          if ((t.claimants ?? []).length > 0) continue;
          unclaimed.push({
            kind: 'unclaimed',
            caseId: t.caseId,
            process: t.definitionKey,
            unit: t.caseUnitId ?? null,
            days: Math.max(0, Math.floor((now - t.openedAt.getTime()) / DAY_MS)),
          });
        }
        for (const c of cases) {
          overdue.push({
            kind: 'overdue',
            caseId: c._id,
            process: c.definitionKey,
            unit: c.unitId ?? null,
            days: daysOverdue(c.deadlines as unknown[], now),
          });
        }
      }
      const longestFirst = (a: OpenItem, b: OpenItem) =>
        b.days - a.days || a.caseId.localeCompare(b.caseId);
      // One claim task per case is counted once: a case with two open claim steps is one demand.
      const unclaimedCases = [...new Map(unclaimed.map((i) => [i.caseId, i])).values()];
      const items = [
        ...unclaimedCases.sort(longestFirst).slice(0, MAX_OPEN_ITEMS_LISTED),
        ...overdue.sort(longestFirst).slice(0, MAX_OPEN_ITEMS_LISTED),
      ];
      return {
        refused: false,
        result: {
          status: 'read',
          source: 'open-items',
          count: unclaimedCases.length + overdue.length,
          unclaimed: unclaimedCases.length,
          overdue: overdue.length,
          items,
          summary: openItemsSummary(unclaimedCases.length, overdue.length, items),
        },
      };
    },
  };
}

/** Whole days since the earliest missed, unstopped deadline was due (0 when none says). */
export function daysOverdue(deadlines: readonly unknown[], now: number): number {
  let earliest: number | null = null;
  for (const d of deadlines) {
    const view = d as { missed?: unknown; stopped?: unknown; dueAt?: unknown; plan?: unknown };
    if (view.missed !== true) continue;
    const plan = view.plan as { dueAt?: unknown } | null | undefined;
    const due = typeof view.dueAt === 'string' ? view.dueAt : plan?.dueAt;
    if (typeof due !== 'string') continue;
    const at = Date.parse(due);
    if (Number.isFinite(at) && (earliest === null || at < earliest)) earliest = at;
  }
  return earliest === null ? 0 : Math.max(0, Math.floor((now - earliest) / DAY_MS));
}

/**
 * The agenda's draft: the counts, then one line per listed item (案件 id（流程，单位）：N 天),
 * cut at MAX_LOOKUP_SUMMARY characters with the count of those left out.
 */
export function openItemsSummary(
  unclaimed: number,
  overdue: number,
  items: readonly OpenItem[],
): string {
  const lines = [`无人认领的需求 ${unclaimed} 件，逾期未办结事项 ${overdue} 件。`];
  let length = lines[0]!.length;
  for (const [i, item] of items.entries()) {
    const what = item.kind === 'unclaimed' ? `无人认领 ${item.days} 天` : `逾期 ${item.days} 天`;
    const line = `${item.caseId}（${item.process}，${item.unit ?? '单位未知'}）：${what}`;
    const rest = `……另有 ${items.length - i} 件`;
    if (length + line.length + 1 + rest.length + 1 > MAX_LOOKUP_SUMMARY) {
      lines.push(rest);
      break;
    }
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join('\n');
}
