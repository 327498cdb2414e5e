import type { AssessmentFigure } from '../lang/definition';
import type { UnitType } from '../lang/vocabulary';
import type { Veto } from '../lang/assessment';
import type { DepartmentFigures, FigureWeight } from '../common/department-assessment';
import {
  departmentFiguresOf,
  departmentRecordsOf,
  departmentResultsOf,
} from '../common/department-assessment';
import type { Sums } from '../common/metric-rollup';
import { servingUnitsOf, sumsOf } from '../common/metric-rollup';
import { childrenByParent, unitsAtOrBelow } from '../common/org-tree';
import type { ActivityDependencies } from './dependencies';

/**
 * The side effects of a street's assessment of the departments (条块考核, the `assessment` step):
 * summing each department's figures over the period's cases, and writing the annual assessment
 * records once the leadership confirmed them. Bounded, projected reads summed in code (no
 * `$group`: FerretDB v1 sums only its first accumulator reliably) and single-document writes
 * keyed by case and department, so a retried activity writes the same thing again.
 */

/** The most cases one assessment reads (chosen: a street's year of whistles and grid events). */
export const MAX_ASSESSED_CASES = 50_000;
/** The most departments one assessment scores (chosen: a county has a few dozen). */
export const MAX_ASSESSED_DEPARTMENTS = 200;

export interface ComputeDepartmentsRequest {
  caseId: string;
  /** The street: cases filed at or below it, or started by a case filed there. */
  unitId: string | null;
  from: string;
  to: string;
  definitions: string[];
  subjects: UnitType;
  figures: Array<{ figure: AssessmentFigure; weight: number }>;
}

export type ComputeDepartmentsResult =
  | { refused: false; cases: number; departments: DepartmentFigures[] }
  | { refused: true; reason: 'too-many-cases' | 'too-many-departments'; count: number };

export interface RecordDepartmentsRequest {
  caseId: string;
  unitId: string | null;
  period: { from: string; to: string };
  closedAt: string;
  weight: number;
  departments: DepartmentFigures[];
  vetoes: Veto[];
  /** The person who confirmed the review. */
  by: string | null;
}

export function createDepartmentAssessmentActivities(deps: ActivityDependencies) {
  const { Case, Unit, AssessmentRecord } = deps.models;

  return {
    /**
     * Each department's figures over the cases of the named processes received in [from, to)
     * whose unit is the street or below it, or whose parent case's is (a department's part of a
     * whistle is filed for the department, started by the street's call). A case counts for the
     * units of the assessed type that served it (`servedBy`) and for its own unit when that is
     * of the type (a department called that never reported in still answers for the case). A
     * case without a rating of its own takes its parent's (the whistle's caller rated the call).
     */
    async computeDepartmentFigures(
      request: ComputeDepartmentsRequest,
    ): Promise<ComputeDepartmentsResult> {
      const units = await Unit.find({}, { _id: 1, parentId: 1, name: 1, type: 1 }).lean();
      const byId = new Map(units.map((u) => [u._id, u]));
      const within =
        request.unitId === null
          ? null
          : unitsAtOrBelow(
              childrenByParent(units.map((u) => ({ id: u._id, parentId: u.parentId ?? null }))),
              [request.unitId],
            );
      const cases = await Case.find(
        {
          definitionKey: { $in: request.definitions },
          createdAt: { $gte: new Date(request.from), $lt: new Date(request.to) },
        },
        { _id: 1, unitId: 1, parentCaseId: 1, metrics: 1, servedBy: 1 },
      )
        .limit(MAX_ASSESSED_CASES + 1)
        .lean();
      if (cases.length > MAX_ASSESSED_CASES) {
        return { refused: true, reason: 'too-many-cases', count: cases.length };
      }
      // The parents: where they were filed decides for a case filed outside the street, and
      // their rating stands for a child's that has none (the caller rates the whole whistle, so
      // every department called shares the 满意率 of the call it answered).
      const parentIds = [
        ...new Set(cases.flatMap((c) => (c.parentCaseId ? [c.parentCaseId] : []))),
      ].sort();
      const parents =
        parentIds.length === 0
          ? []
          : await Case.find({ _id: { $in: parentIds } }, { _id: 1, unitId: 1, metrics: 1 }).lean();
      const parentOf = new Map(parents.map((p) => [p._id, p]));
      const sums = new Map<string, Sums>();
      let counted = 0;
      for (const c of cases) {
        const parent = c.parentCaseId ? parentOf.get(c.parentCaseId) : undefined;
        const filedWithin =
          within === null || within.has(c.unitId ?? '') || within.has(parent?.unitId ?? '');
        if (!filedWithin || c.metrics === null || c.metrics === undefined) continue;
        const subjects = new Set(
          servingUnitsOf(c).filter((id) => byId.get(id)?.type === request.subjects),
        );
        if (c.unitId && byId.get(c.unitId)?.type === request.subjects) subjects.add(c.unitId);
        if (subjects.size === 0) continue;
        counted++;
        const figures = sumsOf(c.metrics as Record<string, unknown>);
        if (figures.rated === 0 && parent?.metrics) {
          const rating = sumsOf(parent.metrics as Record<string, unknown>);
          if (rating.rated > 0) {
            figures.rated = 1;
            figures.satisfied = rating.satisfied > 0 ? 1 : 0;
          }
        }
        for (const id of subjects) {
          const total = sums.get(id);
          if (total === undefined) sums.set(id, { ...figures });
          else
            for (const field of Object.keys(figures) as Array<keyof Sums>)
              total[field] += figures[field];
        }
      }
      if (sums.size > MAX_ASSESSED_DEPARTMENTS) {
        return { refused: true, reason: 'too-many-departments', count: sums.size };
      }
      const weights: FigureWeight[] = request.figures;
      const departments = [...sums.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([id, total]) => {
          const unit = byId.get(id);
          const parent = unit?.parentId ? byId.get(unit.parentId) : undefined;
          return departmentFiguresOf(
            { unitId: id, name: unit?.name ?? id, parentName: parent?.name ?? null },
            total,
            weights,
          );
        });
      return { refused: false, cases: counted, departments };
    },

    /**
     * The annual assessment records (kind `department`) of a confirmed assessment: one per
     * department, replaced with the same content by a retry. Answers how many were vetoed.
     */
    async recordDepartmentAssessment(
      request: RecordDepartmentsRequest,
    ): Promise<{ records: number; vetoed: number }> {
      const street =
        request.unitId === null ? null : await Unit.findById(request.unitId, { name: 1 }).lean();
      const results = departmentResultsOf(
        request.departments,
        request.weight,
        request.vetoes,
        request.by,
      );
      const records = departmentRecordsOf({
        caseId: request.caseId,
        unitId: request.unitId,
        unitName: street?.name ?? null,
        period: request.period,
        closedAt: request.closedAt,
        results,
      });
      for (const { id, closedAt, ...record } of records) {
        await AssessmentRecord.replaceOne(
          { _id: id },
          { ...record, closedAt: new Date(closedAt) },
          { upsert: true },
        );
      }
      return { records: records.length, vetoed: results.filter((r) => r.veto !== null).length };
    },
  };
}
