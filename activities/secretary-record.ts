import { BEIJING_OFFSET_MS } from '../lang/beijing';
import type { DefinitionSpec, FieldSpec } from '../lang/definition';
import type { SecretaryRecordMissing, SecretaryRecordResult } from '../lang/lookup';
import type { ActivityDependencies } from './dependencies';

/**
 * The `lookup` step's `secretary-record` source (述职评议的依据): for one community (the case's
 * unit, or a unit at or below it), the result of the latest closed 评单 round (or the latest of a
 * year) and its latest secretary-project case (or the latest of a year), ids and figures only.
 *
 * - The round's result is the unit's annual assessment record (年度考核记录, kind `unit`, the
 *   orders of the unit and everything below it: the orders its secretary answers for,
 *   `GET /api/v1/assessments?kind=unit&subjectId=<unit>`), written when the round closed
 *   (activities/evaluations.ts); how many scores those orders got comes from the round's frozen
 *   results (one `_id` read). The `secretary` record is keyed by the person, who may have changed
 *   since, and merges every unit they head: the unit's record is the community's secretary's
 *   figure whoever holds the post.
 * - The project is a `secretary-project` case filed for the unit; its grade and score are the
 *   year-end assessment's (`assess` step), read from the case's publication (公示), the one place
 *   a finished task's form is stored, by the labels of the version the case ran.
 *
 * Every read is led by top-level equalities FerretDB v1 pushes down (`kind` and `subjectId`,
 * `year`; `definitionKey` and `unitId`; `_id`), bounded, never a whole collection. What no record
 * holds stays null and is named in `missing`.
 */

/** The process whose cases are the secretaries' projects (definitions/secretary-project.yaml). */
export const SECRETARY_PROJECT_PROCESS = 'secretary-project';

/** The project's year-end assessment step and its form fields (secretary-project.yaml). */
const ASSESSMENT_STEP = 'assess';
const GRADE_FIELD = 'grade';
const SCORE_FIELD = 'score';

/**
 * Projects of one unit one lookup reads at most (chosen: 1–2 a year, seeds/004, so a century's
 * worth; newest first, so more only leaves the oldest unread).
 */
const MAX_PROJECTS_READ = 200;

/**
 * The deepest walk up the org tree checking the unit read lies under the case's (chosen: the
 * seven-level system with room to spare).
 */
const MAX_TREE_DEPTH = 20;

export interface ReadSecretaryRecordRequest {
  caseId: string;
  /** The case's unit: what the case may read (it and the units under it). */
  caseUnitId: string | null;
  /** The unit `unit` gave, or null for the case's. */
  unitId: string | null;
  /** The Beijing year read, or null for the latest. */
  year: number | null;
}

export type ReadSecretaryRecordResult =
  { refused: false; result: SecretaryRecordResult } | { refused: true; reason: 'no-unit' | 'unit' };

/** The Beijing date of an instant. */
function beijingDate(at: number): string {
  return new Date(at + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

export function createSecretaryRecordActivities(deps: ActivityDependencies) {
  const { AssessmentRecord, Case, Definition, EvaluationRound, Unit } = deps.models;

  /** Whether `unitId` is `ancestorId` or lies under it: a walk up by `_id`, a few reads. */
  async function isAtOrBelow(unitId: string, ancestorId: string): Promise<boolean> {
    let id: string | null = unitId;
    for (let depth = 0; id !== null && depth < MAX_TREE_DEPTH; depth++) {
      if (id === ancestorId) return true;
      const unit: { parentId?: string | null } | null = await Unit.findById(id, {
        parentId: 1,
      }).lean();
      if (!unit) return false;
      id = unit.parentId ?? null;
    }
    return false;
  }

  /** The labels of the assessment's grade and score in a version of secretary-project. */
  const labels = new Map<number, { grade: string | null; score: string | null }>();
  async function assessmentLabels(version: number) {
    const known = labels.get(version);
    if (known) return known;
    const doc = await Definition.findOne(
      { key: SECRETARY_PROJECT_PROCESS, version },
      { spec: 1 },
    ).lean();
    const step = (doc?.spec as DefinitionSpec | undefined)?.steps.find(
      (s) => s.id === ASSESSMENT_STEP,
    );
    const fields: readonly FieldSpec[] = step && 'form' in step ? (step.form?.fields ?? []) : [];
    const labelOf = (name: string) => fields.find((f) => f.name === name)?.label ?? null;
    const found = { grade: labelOf(GRADE_FIELD), score: labelOf(SCORE_FIELD) };
    labels.set(version, found);
    return found;
  }

  return {
    /** The unit's latest (or the year's) round result and secretary project (see the top). */
    async readSecretaryRecord(
      request: ReadSecretaryRecordRequest,
    ): Promise<ReadSecretaryRecordResult> {
      if (request.caseUnitId === null) return { refused: true, reason: 'no-unit' };
      const unit = request.unitId ?? request.caseUnitId;
      if (unit !== request.caseUnitId && !(await isAtOrBelow(unit, request.caseUnitId))) {
        return { refused: true, reason: 'unit' };
      }
      const missing: SecretaryRecordMissing[] = [];

      // The round: the unit's newest assessment record (of the year), then its scores' count.
      const record = await AssessmentRecord.findOne(
        { kind: 'unit', subjectId: unit, ...(request.year !== null ? { year: request.year } : {}) },
        { roundId: 1, period: 1, items: 1, scored: 1, score: 1, closedAt: 1 },
      )
        .sort({ closedAt: -1, _id: 1 })
        .lean();
      let ratings: number | null = null;
      if (record) {
        const round = await EvaluationRound.findById(record.roundId, { 'results.units': 1 }).lean();
        const results = round?.results as
          | { units?: Array<{ unitId: string; groups?: Array<{ scores: number }> }> }
          | null
          | undefined;
        const figures = results?.units?.find((u) => u.unitId === unit);
        if (figures) ratings = (figures.groups ?? []).reduce((sum, g) => sum + g.scores, 0);
      } else {
        missing.push('evaluation');
      }
      if (record && (record.score ?? null) === null) missing.push('satisfaction');
      const period = record?.period as { from: string; to: string } | undefined;

      // The project: the unit's newest secretary-project case (of the year).
      const projects = await Case.find(
        { definitionKey: SECRETARY_PROJECT_PROCESS, unitId: unit },
        { status: 1, data: 1, createdAt: 1, definitionVersion: 1, publication: 1 },
      )
        .sort({ createdAt: -1, _id: 1 })
        .limit(MAX_PROJECTS_READ)
        .lean();
      const yearOf = (data: unknown): number | null => {
        const year = (data as { year?: unknown } | null)?.year;
        return typeof year === 'number' ? year : null;
      };
      const project =
        request.year === null ? projects[0] : projects.find((p) => yearOf(p.data) === request.year);
      let grade: string | null = null;
      let score: number | null = null;
      if (project) {
        const publication = project.publication as {
          fields?: Array<{ label: string; value: string }>;
        } | null;
        if (publication?.fields) {
          const label = await assessmentLabels(project.definitionVersion);
          const valueOf = (name: string | null) =>
            name === null ? undefined : publication.fields!.find((f) => f.label === name)?.value;
          grade = valueOf(label.grade) ?? null;
          const shown = valueOf(label.score);
          score = shown !== undefined && Number.isFinite(Number(shown)) ? Number(shown) : null;
        }
      } else {
        missing.push('project');
      }
      if (project && grade === null) missing.push('projectGrade');

      return {
        refused: false,
        result: {
          status: 'read',
          source: 'secretary-record',
          unit,
          period: request.year,
          round: record?.roundId ?? null,
          roundFrom: period ? beijingDate(Date.parse(period.from)) : null,
          // `to` is the instant after the period's last day.
          roundTo: period ? beijingDate(Date.parse(period.to) - 1) : null,
          satisfaction: record?.score ?? null,
          orders: record?.items ?? null,
          ratedOrders: record?.scored ?? null,
          ratings,
          project: project?._id ?? null,
          projectYear: project ? yearOf(project.data) : null,
          projectStatus: project?.status ?? null,
          projectGrade: grade,
          projectScore: score,
          missing,
        },
      };
    },
  };
}
