import type { StepSpec } from '../../lang/definition';
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
    const spec = run.spec.input.fields.find((f) => f.name === name);
    const value = run.input.data[name];
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

function displayValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
