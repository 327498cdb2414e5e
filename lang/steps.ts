import type { DefinitionSpec, ParallelStepSpec, RepeatStepSpec, StepSpec } from './definition';

// Step navigation shared by the validator and the interpreter workflow; imports types only so
// the workflow bundle stays free of the validation library.

/**
 * A list of steps that run in sequence: the definition's top level, or one branch of a parallel
 * step. Jumps (`next`, outcomes, decisions) stay inside their list; running off the end of a
 * branch finishes the branch.
 */
export interface StepList {
  /** Where the list sits in the definition, for problem paths (`steps`, `steps[2].branches[0].steps`). */
  path: string;
  steps: readonly StepSpec[];
  isBranch: boolean;
}

export function topLevel(spec: DefinitionSpec): StepList {
  return { path: 'steps', steps: spec.steps, isBranch: false };
}

/** Every step list of a definition: the top level, then each parallel branch and repeated block. */
export function stepLists(spec: DefinitionSpec): StepList[] {
  return [
    topLevel(spec),
    ...spec.steps.flatMap((step, i) =>
      step.type === 'parallel'
        ? branchLists(step, `steps[${i}]`)
        : step.type === 'repeat'
          ? [repeatedList(step, `steps[${i}]`)]
          : [],
    ),
  ];
}

/**
 * The most iterations a `repeat` step runs (chosen: two years of monthly check-ins); the schema
 * (definition.ts, `times`) refuses more and the interpreter takes at most this many dates. Kept
 * here, not in definition.ts, so the workflow bundle reads it without the schema library.
 */
export const MAX_REPEAT_ITERATIONS = 24;

/**
 * The block of a `repeat` step as a step list: like a branch, jumps stay inside it and running
 * off its end ends the iteration. `path` is where the step sits.
 */
export function repeatedList(step: RepeatStepSpec, path: string): StepList {
  return { path: `${path}.steps`, steps: step.steps, isBranch: true };
}

/** The branches of a parallel step as step lists; `path` is where the step sits. */
export function branchLists(step: ParallelStepSpec, path: string): StepList[] {
  return step.branches.map((branch, b) => ({
    path: `${path}.branches[${b}].steps`,
    steps: branch.steps,
    isBranch: true,
  }));
}

/** The step a list falls through to after `id`: the following one, or undefined at its end. */
export function followingStepId(list: StepList, id: string): string | undefined {
  const i = list.steps.findIndex((s) => s.id === id);
  return list.steps[i + 1]?.id;
}

/**
 * Where a step may go next: named targets and, when `fallsThrough`, the implicit successor (the
 * following step, or the end of a branch when there is none).
 */
export function successorsOf(step: StepSpec): { targets: string[]; fallsThrough: boolean } {
  switch (step.type) {
    case 'end':
      return { targets: [], fallsThrough: false };
    case 'decision':
      return {
        targets: [...step.branches.map((b) => b.next), step.otherwise],
        fallsThrough: false,
      };
    case 'task': {
      const targets = step.outcomes.flatMap((o) => (o.next !== undefined ? [o.next] : []));
      if (step.onReturn !== undefined) targets.push(step.onReturn);
      if (step.next !== undefined) targets.push(step.next);
      const anyDefault = step.outcomes.some((o) => o.next === undefined);
      return { targets, fallsThrough: anyDefault && step.next === undefined };
    }
    case 'claim': {
      const targets = step.onUnclaimed !== undefined ? [step.onUnclaimed] : [];
      if (step.next !== undefined) targets.push(step.next);
      return { targets, fallsThrough: step.next === undefined };
    }
    default:
      return {
        targets: step.next !== undefined ? [step.next] : [],
        fallsThrough: step.next === undefined,
      };
  }
}

/** The successor of a step that completed without a chosen target (its `next` or the following). */
export function nextStepId(list: StepList, step: StepSpec): string | undefined {
  if (step.type === 'end' || step.type === 'decision') return undefined;
  return step.next ?? followingStepId(list, step.id);
}

export function startStepId(spec: DefinitionSpec): string {
  // The schema guarantees at least one step.
  return spec.start ?? spec.steps[0]!.id;
}

/** Every step of a definition, parallel branches included, with the list holding it. */
export function allSteps(
  spec: DefinitionSpec,
): Array<{ step: StepSpec; list: StepList; index: number }> {
  return stepLists(spec).flatMap((list) =>
    list.steps.map((step, index) => ({ step, list, index })),
  );
}

/**
 * A running case keeps the definition snapshot it started with, parsed by the schema of its day.
 * Fields added to the language since then are filled with their defaults here, so an interpreter
 * upgrade never meets an `undefined` where today's schema guarantees a value.
 */
export function withLanguageDefaults(spec: DefinitionSpec): DefinitionSpec {
  const stored = spec as Partial<DefinitionSpec> & DefinitionSpec;
  return { ...spec, roles: stored.roles ?? [], deadlines: stored.deadlines ?? [] };
}
