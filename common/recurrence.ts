import type { UnitType } from '../lang/vocabulary';

/**
 * 未诉先办 (proactive governance): the requests of a period that recur — the same category at the
 * same place (a grid, a compound) at least N times — found by the `recurrence` step's activity
 * (activities/lookups.ts) and grouped here. Pure and sandbox-safe: the activity groups, the
 * workflow (workflows/steps/recurrence.ts) only reads the groups, and the unit tests call it
 * directly. docs/definition-language.md 6.13.
 */

/**
 * The most requests one analysis reads (chosen: a street's month of hotline and grid requests is
 * a few thousand; more is refused, named, never cut short: a count over a part of the period
 * would call a problem recurring or not by where the read stopped).
 */
export const MAX_RECURRENCE_CASES = 10_000;

/**
 * The most groups one analysis opens proactive cases for (chosen: a street facing more than 100
 * recurring problems in one period should raise the threshold or analyse per community; a run
 * past it is refused, named, and opens none).
 */
export const MAX_RECURRENCE_GROUPS = 100;

/**
 * The case ids one group hands its proactive case (chosen: the newest 100; `count` is the whole
 * number). Keeps each child's input, and the history that records its start, small.
 */
export const MAX_GROUP_CASE_IDS = 100;

/** One request as the analysis reads it: its id, its category and its place (or none). */
export interface RecurrenceCase {
  caseId: string;
  /** The category (诉求类别): the definition's category code, else the `category` field's value. */
  category: string | null;
  /** The unit of the place level at or above the case's unit; null when it has none there. */
  placeId: string | null;
  /** When it was received (ISO 8601): a group lists its newest case ids first. */
  receivedAt: string;
}

/** A recurring problem: `count` requests of `category` at `placeId` in the period. */
export interface RecurrenceGroup {
  category: string;
  placeId: string;
  count: number;
  /** The newest {@link MAX_GROUP_CASE_IDS} case ids, newest first (ties by id). */
  caseIds: string[];
}

export interface RecurrenceGrouping {
  /** Groups of at least the threshold, by count (largest first), then category, then place. */
  groups: RecurrenceGroup[];
  /** Requests without a category: not counted anywhere. */
  uncategorised: number;
  /** Requests filed above the place level (no unit of that type at or above theirs). */
  unplaced: number;
}

/**
 * Groups requests by category and place and keeps the groups of at least `threshold`, in a fixed
 * order (so the child cases open in the same order on every run).
 */
export function recurringGroups(
  cases: readonly RecurrenceCase[],
  threshold: number,
): RecurrenceGrouping {
  let uncategorised = 0;
  let unplaced = 0;
  const byKey = new Map<string, { category: string; placeId: string; cases: RecurrenceCase[] }>();
  for (const c of cases) {
    const category = c.category?.trim() ?? '';
    if (category === '') {
      uncategorised++;
      continue;
    }
    if (c.placeId === null) {
      unplaced++;
      continue;
    }
    // A separator no category or unit id holds: "a\u0000b" is never another pair's key.
    const key = `${category}\u0000${c.placeId}`;
    const group = byKey.get(key) ?? { category, placeId: c.placeId, cases: [] };
    group.cases.push(c);
    byKey.set(key, group);
  }
  const groups = [...byKey.values()]
    .filter((g) => g.cases.length >= threshold)
    .map((g) => ({
      category: g.category,
      placeId: g.placeId,
      count: g.cases.length,
      caseIds: [...g.cases]
        .sort((a, b) =>
          a.receivedAt === b.receivedAt
            ? a.caseId.localeCompare(b.caseId)
            : a.receivedAt < b.receivedAt
              ? 1
              : -1,
        )
        .slice(0, MAX_GROUP_CASE_IDS)
        .map((c) => c.caseId),
    }))
    .sort(
      (a, b) =>
        b.count - a.count || compare(a.category, b.category) || compare(a.placeId, b.placeId),
    );
  return { groups, uncategorised, unplaced };
}

/** Code-point order: the same on every machine (no locale). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The unit a request is placed at: the nearest unit of `type` at or above its unit, given the
 * unit and its ancestors nearest first (OrgTree.ancestry); null when none is of that type.
 */
export function placeOf(
  ancestry: ReadonlyArray<{ id: string; type: string }>,
  type: UnitType,
): string | null {
  return ancestry.find((u) => u.type === type)?.id ?? null;
}
