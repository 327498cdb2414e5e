import type { FieldSpec, StepSpec } from '../../lang/definition';
import { SHOWN_FORM_FIELD } from '../../lang/names';
import { allSteps } from '../../lang/steps';
import { maskValue } from '../../lang/mask';
import { ENGINE } from '../projection';
import type { CaseRun } from '../run';
import { outcomeName } from '../run';

/**
 * The `publish` step: the case's public notice (the fields it names, personal ones masked, and
 * the outcome). A plain function: no await, no command; the notice rides with the next write.
 */
export function publish(run: CaseRun, step: Extract<StepSpec, { type: 'publish' }>): void {
  const fields = step.show.flatMap((name) => {
    const { spec, value } = shownField(run, name);
    if (!spec || value === undefined || value === null) return [];
    return [
      {
        label: spec.label,
        value: (Array.isArray(value) ? value : [value])
          .map((item) => (spec.personal ? maskValue(spec.type, item) : displayValue(item)))
          .join('、'),
      },
    ];
  });
  run.projection.published({
    title: step.title,
    outcome: outcomeName(run),
    fields,
    publishedAt: new Date().toISOString(),
  });
  run.projection.record('case.published', ENGINE, step.id);
}

/** An input field, or a task's form field (`steps.<step>.form.<field>`), with its value. */
function shownField(run: CaseRun, name: string): { spec: FieldSpec | undefined; value: unknown } {
  const ref = SHOWN_FORM_FIELD.exec(name);
  if (ref === null) {
    return {
      spec: run.spec.input.fields.find((f) => f.name === name),
      value: run.input.data[name],
    };
  }
  const [, stepId, field] = ref as unknown as [string, string, string];
  const source = allSteps(run.spec).find((s) => s.step.id === stepId)?.step;
  const form = source && 'form' in source ? source.form : undefined;
  return {
    spec: form?.fields.find((f) => f.name === field),
    value: run.steps[stepId]?.form?.[field],
  };
}

function displayValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
