import type { AssessmentFigure } from '../lang/definition';
import type { Veto } from '../lang/assessment';
import type { AssessmentRecord } from './evaluation';
import { beijingYearOfEnd } from './evaluation';
import type { Sums } from './metric-rollup';

/**
 * The street's assessment of the departments (条块考核): the figures of each department that
 * served the street's cases in a period, the score they make, and the effect of a veto. Pure,
 * shared by the activity that computes them (activities/department-assessments.ts) and the tests.
 *
 * Sources (../shared/seeds): Mudan (seeds/003) raised the street's evaluation to 30% of the
 * departments' annual performance score and measures 响应率, 办结率 and 满意度 of the departments
 * called (街道"呼叫"、部门"响应"); Chengu (seeds/000) gave the streets a veto over the year-end
 * assessment of the county's stationed departments (年终工作考核建议否决权).
 */

/** The counts a department's figures are made of (sums of the cases' metric flags). */
export interface DepartmentCounts {
  /** Cases counted: received, less those refused (不予受理). */
  cases: number;
  dispatched: number;
  accepted: number;
  respondedInTime: number;
  due: number;
  completed: number;
  completedOnTime: number;
  resolved: number;
  rated: number;
  satisfied: number;
}

export type DepartmentRates = Record<AssessmentFigure, number | null>;

export interface FigureWeight {
  figure: AssessmentFigure;
  weight: number;
}

export interface DepartmentFigures {
  unitId: string;
  name: string;
  /** The unit the department hangs under (its county), for the records. */
  parentName: string | null;
  counts: DepartmentCounts;
  rates: DepartmentRates;
  /** 0–100, two decimals; null when no weighed figure has anything to divide by. */
  score: number | null;
}

/** A share with four decimals, null when there is nothing to divide by (as the metrics API). */
function share(part: number, whole: number): number | null {
  return whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null;
}

/** The counts of summed case flags. */
export function countsOf(s: Sums): DepartmentCounts {
  return {
    cases: s.received - s.excluded,
    dispatched: s.dispatched,
    accepted: s.accepted,
    respondedInTime: s.respondedInTime,
    due: s.due,
    completed: s.completed,
    completedOnTime: s.completedOnTime,
    resolved: s.resolved,
    rated: s.rated,
    satisfied: s.satisfied,
  };
}

/** The rates, with the formulas of the metrics (docs/definition-language.md 3.5). */
export function ratesOf(c: DepartmentCounts): DepartmentRates {
  return {
    responseRate: share(c.respondedInTime, c.dispatched),
    acceptanceRate: share(c.accepted, c.dispatched),
    completionRate: share(c.completed, c.due),
    resolutionRate: share(c.resolved, c.due),
    onTimeRate: share(c.completedOnTime, c.completed),
    satisfactionRate: share(c.satisfied, c.rated),
  };
}

/**
 * The score 0–100: the weighted mean of the weighed rates, × 100, two decimals. A rate with
 * nothing to divide by (no case rated: no 满意率) is left out and the other weights renormalised
 * (chosen, as an evaluation round renormalises a group that gave nothing): a department is never
 * given 0 or 100 for what did not happen. Null when none of the rates has a value (no cases).
 */
export function scoreOf(rates: DepartmentRates, weights: readonly FigureWeight[]): number | null {
  let weighted = 0;
  let total = 0;
  for (const { figure, weight } of weights) {
    const rate = rates[figure];
    if (rate === null) continue;
    weighted += rate * weight;
    total += weight;
  }
  if (total === 0) return null;
  return Math.round((weighted / total) * 100 * 100) / 100;
}

/** One department's figures and score from its summed case flags. */
export function departmentFiguresOf(
  unit: { unitId: string; name: string; parentName: string | null },
  sums: Sums,
  weights: readonly FigureWeight[],
): DepartmentFigures {
  const counts = countsOf(sums);
  const rates = ratesOf(counts);
  return { ...unit, counts, rates, score: scoreOf(rates, weights) };
}

export interface DepartmentResult extends DepartmentFigures {
  /** The street's share of the department's annual score, percent (Mudan: 30). */
  weight: number;
  /** The veto (一票否决) with its reason, or null. */
  veto: (Veto & { by: string | null }) | null;
  /**
   * What the street adds to the department's annual score: score × weight ÷ 100, two decimals.
   * A vetoed department adds 0 and fails the year whatever its score (Chengu, seeds/000); one
   * without a score adds nothing (null).
   */
  weightedScore: number | null;
}

/** The results after the review: the street's weight applied, the vetoes marked. */
export function departmentResultsOf(
  figures: readonly DepartmentFigures[],
  weight: number,
  vetoes: readonly Veto[],
  by: string | null,
): DepartmentResult[] {
  return figures.map((f) => {
    const veto = vetoes.find((v) => v.unitId === f.unitId);
    const weightedScore =
      veto !== undefined ? 0 : f.score === null ? null : Math.round(f.score * weight) / 100;
    return {
      ...f,
      weight,
      veto: veto !== undefined ? { ...veto, by } : null,
      weightedScore,
    };
  });
}

/**
 * The annual assessment records (年度考核记录, kind `department`) of a reviewed assessment: one per
 * department, `<assessment case>:department:<unit>`, with the street's weight, the rates, the veto
 * and the weighted score, so a county combines its streets' parts. `items` counts the cases;
 * `scored` those with a figure weighed (all of them), `missing` none: the fields the other kinds
 * share. `year` is the Beijing year the period ends in, as a round's.
 */
export function departmentRecordsOf(assessment: {
  caseId: string;
  unitId: string | null;
  unitName: string | null;
  period: { from: string; to: string };
  closedAt: string;
  results: readonly DepartmentResult[];
}): AssessmentRecord[] {
  const year = beijingYearOfEnd(assessment.period.to);
  return assessment.results.map((r) => ({
    id: `${assessment.caseId}:department:${r.unitId}`,
    roundId: assessment.caseId,
    roundUnitId: assessment.unitId,
    year,
    kind: 'department',
    subjectId: r.unitId,
    name: r.name,
    // The assessing street first (whose part this is), then the department's own parent.
    unitNames: [assessment.unitName, r.parentName].filter((n): n is string => n !== null),
    period: assessment.period,
    items: r.counts.cases,
    scored: r.counts.cases,
    missing: 0,
    score: r.score,
    closedAt: assessment.closedAt,
    weight: r.weight,
    weightedScore: r.weightedScore,
    rates: r.rates,
    veto: r.veto === null ? null : { reason: r.veto.reason, by: r.veto.by },
  }));
}
