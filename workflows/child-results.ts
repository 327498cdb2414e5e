import type { ResultSpec } from '../lang/definition';
import { OBJECT_MEMBER_NAMES } from '../lang/names';
import { evaluateValue } from '../lang/expression';

/**
 * A child case's outcome and result values, handed to the case whose `subprocess` step started it
 * (the definition's `result`, docs 6.10), and a fan-out's counts and sums over its children. Pure
 * helpers on data the workflows already hold: no command, replay-safe. Sizes are bounded, since a
 * fan-out keeps them for each of hundreds (up to 20,000) of children.
 */

/** The longest outcome kept (chosen: an outcome is an id or a short word); longer is cut. */
export const MAX_OUTCOME_LENGTH = 60;

/** The longest text value kept (chosen: a name or a short note, not a report); longer is cut. */
export const MAX_RESULT_TEXT = 100;

/**
 * The most children whose own values `steps.<id>.cases[i].data` keeps (chosen: a fan-out over a
 * street's departments or compounds has tens; a city's thousands of grids keep the counts and
 * sums only, so the step's result stays small).
 */
export const MAX_CHILDREN_WITH_DATA = 500;

/** The most distinct outcomes a fan-out counts (chosen); further ones are counted as `other`. */
export const MAX_DISTINCT_OUTCOMES = 50;

export type ResultValue = number | boolean | string | null;

/** What one child hands its parent. */
export interface ChildResult {
  outcome: string | null;
  data?: Record<string, ResultValue>;
}

/** A value as a result keeps it: a finite number, true/false, text cut short; anything else null. */
function compact(value: unknown, maxLength: number): ResultValue {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.slice(0, maxLength);
  return null;
}

/** An expression's value, or null when it cannot be evaluated: a result never stops a close. */
function valueOf(source: string, scope: Record<string, unknown>): unknown {
  try {
    return evaluateValue(source, scope);
  } catch {
    return null;
  }
}

/**
 * What a case closing at `endStepId` hands its parent: the definition's `result.outcome` (or the
 * end step's id) and its `result.data`, evaluated on the case as it closes.
 */
export function handedResult(
  spec: ResultSpec | undefined,
  endStepId: string,
  scope: Record<string, unknown>,
): ChildResult {
  const outcome =
    spec?.outcome !== undefined
      ? compact(valueOf(spec.outcome, scope), MAX_OUTCOME_LENGTH)
      : endStepId;
  const data = spec?.data;
  return {
    outcome: outcome === null ? null : String(outcome),
    ...(data !== undefined
      ? {
          data: Object.fromEntries(
            Object.entries(data).map(([name, source]) => [
              name,
              compact(valueOf(source, scope), MAX_RESULT_TEXT),
            ]),
          ),
        }
      : {}),
  };
}

/**
 * A child's outcome and values as its `subprocess.ended` entry records them, flat (a timeline
 * entry holds no nested records): `outcome`, then each value under its name; null ones left out.
 */
export function endedDetail(handed: ChildResult | null): Record<string, string | number | boolean> {
  if (handed === null) return {};
  const detail: Record<string, string | number | boolean> = {};
  if (handed.outcome !== null) detail.outcome = handed.outcome;
  for (const [name, value] of Object.entries(handed.data ?? {})) {
    if (value !== null) detail[name] = value;
  }
  return detail;
}

/**
 * A fan-out's counts and sums as its summary (`step.completed`) records them, flat: `outcomes`
 * as `id: count` texts, then each total under its name.
 */
export function totalsDetail(
  totals: NonNullable<ReturnType<typeof resultTotals>>,
): Record<string, number | readonly string[]> {
  return {
    outcomes: Object.entries(totals.outcomes).map(([outcome, n]) => `${outcome}: ${n}`),
    ...totals.totals,
  };
}

/** A child's outcome and values from its workflow result; null for a result without them. */
export function childResult(result: unknown): ChildResult | null {
  const handed = result as { outcome?: unknown; data?: unknown } | null;
  if (handed === null || typeof handed !== 'object' || !('outcome' in handed)) return null;
  const outcome = typeof handed.outcome === 'string' ? handed.outcome : null;
  const data =
    handed.data !== null && typeof handed.data === 'object'
      ? (handed.data as Record<string, ResultValue>)
      : undefined;
  return { outcome, ...(data !== undefined ? { data } : {}) };
}

/**
 * An outcome as a key of `outcomes`: a name every object has (`constructor`), one MongoDB would
 * read as a path or an operator, or none at all cannot be a key and is counted as `other`.
 */
function outcomeKey(outcome: string | null): string {
  if (outcome === null || outcome === '' || OBJECT_MEMBER_NAMES.has(outcome)) return 'other';
  if (outcome.includes('.') || outcome.startsWith('$')) return 'other';
  return outcome;
}

/**
 * A fan-out's counts and sums over the children that handed a result: `outcomes` (how many ended
 * with each outcome) and, when they handed values, `totals` (per name, the sum of the numbers,
 * each true counting 1; 0 when none). Null when no child handed one.
 */
export function resultTotals(
  results: ReadonlyArray<ChildResult | null>,
): { outcomes: Record<string, number>; totals?: Record<string, number> } | null {
  const present = results.filter((r): r is ChildResult => r !== null);
  if (present.length === 0) return null;
  const outcomes: Record<string, number> = {};
  const totals: Record<string, number> = {};
  let anyData = false;
  for (const result of present) {
    let key = outcomeKey(result.outcome);
    if (!(key in outcomes) && Object.keys(outcomes).length >= MAX_DISTINCT_OUTCOMES) key = 'other';
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    for (const [name, value] of Object.entries(result.data ?? {})) {
      anyData = true;
      const add = typeof value === 'number' ? value : value === true ? 1 : 0;
      totals[name] = (totals[name] ?? 0) + add;
    }
  }
  return { outcomes, ...(anyData ? { totals } : {}) };
}
