import type { AssessmentStepSpec, FieldSpec, TaskStepSpec } from './definition';

/**
 * The review (审定) of a department assessment (条块考核, the `assessment` step): the task the
 * street's leadership completes to confirm the figures, naming the departments it vetoes
 * (一票否决) each with its reason. Shared by the interpreter (which opens the task and checks a
 * completion), the services and the console (which show its form). Pure: types only from
 * definition.ts, so the workflow bundle stays free of the validation library.
 */

/** The one outcome of the review: the figures confirmed, with the vetoes the form names. */
export const REVIEW_OUTCOME = 'confirmed';

/** The most departments one review may veto (chosen: a county has a few dozen departments). */
export const MAX_VETOES = 100;

/** The longest reason for a veto (chosen). */
export const MAX_VETO_REASON = 500;

/**
 * The review form: the departments vetoed and, at the same positions, the reasons (the console
 * takes one per line). Both optional: a review without vetoes confirms the scores as computed.
 */
export const REVIEW_FORM_FIELDS: FieldSpec[] = [
  {
    name: 'vetoed',
    label: '一票否决的部门（没有则不填）',
    type: 'unit',
    required: false,
    multiple: true,
    maxItems: MAX_VETOES,
    personal: false,
  },
  {
    name: 'vetoReasons',
    label: '否决理由（每个部门一条，顺序与上面一致）',
    type: 'string',
    required: false,
    multiple: true,
    maxItems: MAX_VETOES,
    maxLength: MAX_VETO_REASON,
    personal: false,
  },
];

/** The review as a task step (same id as the assessment step, so its task is the step's). */
export function reviewTaskStep(step: AssessmentStepSpec): TaskStepSpec {
  return {
    id: step.id,
    name: step.review.name ?? `${step.name}审定`,
    type: 'task',
    candidates: step.review.candidates,
    form: { fields: REVIEW_FORM_FIELDS },
    outcomes: [{ id: REVIEW_OUTCOME, name: '审定确认', requiresComment: false }],
    announce: true,
    deadlines: step.review.deadlines,
  };
}

/** The form fields of a step's task: a task's own form, an assessment's review form. */
export function taskFormFieldsOf(step: { type: string; form?: { fields: FieldSpec[] } }) {
  if (step.type === 'task') return step.form?.fields ?? [];
  if (step.type === 'assessment') return REVIEW_FORM_FIELDS;
  return [];
}

export interface Veto {
  unitId: string;
  reason: string;
}

export interface VetoProblem {
  path: string;
  message: string;
}

function listOf(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * The vetoes a review form names, or the problems with it: each vetoed unit one of the assessed
 * departments, each once, each with a reason (not blank) at its position, no reason left over.
 */
export function vetoesOf(
  form: Record<string, unknown> | undefined,
  assessed: readonly string[],
): { ok: true; vetoes: Veto[] } | { ok: false; problems: VetoProblem[] } {
  const units = listOf(form?.vetoed);
  const reasons = listOf(form?.vetoReasons);
  const problems: VetoProblem[] = [];
  const seen = new Set<string>();
  const vetoes: Veto[] = [];
  units.forEach((unit, i) => {
    const given = reasons[i];
    const reason = typeof given === 'string' ? given.trim() : '';
    if (typeof unit !== 'string' || !assessed.includes(unit)) {
      problems.push({
        path: `form.vetoed[${i}]`,
        message: `"${String(unit)}" is not one of the departments assessed (${assessed.join(', ') || 'none'})`,
      });
    } else if (seen.has(unit)) {
      problems.push({ path: `form.vetoed[${i}]`, message: `"${unit}" is vetoed twice` });
    }
    if (reason === '') {
      problems.push({
        path: `form.vetoReasons[${i}]`,
        message: `a veto needs its reason: give one for "${String(unit)}" at the same position`,
      });
    }
    if (typeof unit === 'string') {
      seen.add(unit);
      vetoes.push({ unitId: unit, reason });
    }
  });
  if (reasons.length > units.length) {
    problems.push({
      path: `form.vetoReasons[${units.length}]`,
      message: `${reasons.length} reasons for ${units.length} vetoed department(s): one reason per department`,
    });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, vetoes };
}
