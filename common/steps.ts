import type { DefinitionSpec } from './definition';

// Step navigation shared by the validator and the interpreter workflow; imports types only so
// the workflow bundle stays free of the validation library.

/** Successor of a step: its `next`, else the following step in the list. */
export function nextStepId(spec: DefinitionSpec, stepIdValue: string): string | undefined {
  const i = spec.steps.findIndex((s) => s.id === stepIdValue);
  const step = spec.steps[i];
  if (!step || step.type === 'end') return undefined;
  return step.next ?? spec.steps[i + 1]?.id;
}

export function startStepId(spec: DefinitionSpec): string {
  // The schema guarantees at least one step.
  return spec.start ?? spec.steps[0]!.id;
}
