import type { DefinitionSpec, StepSpec } from './definition';
import { allSteps } from './steps';

// The meaning checks of a definition's `measures` block (考核指标: which step is the handler's
// acceptance, which deadline the 办结时限, which outcomes are 解决, 解释说明 or 不予受理). The zod
// schema lives in definition.ts beside the others; common/case-measures.ts applies the block.

/**
 * Checks `measures` on a well-formed definition: every step it names exists and is of a kind that
 * can mean what it is declared for, every outcome is one the step has, every deadline one the
 * step (or the case) has, and the dispute expressions compile. Reports through the validator's
 * callbacks, so problems come out with every other problem of the definition.
 */
export function checkMeasures(
  spec: DefinitionSpec,
  report: (path: string, message: string) => void,
  checkExpression: (path: string, source: string) => void,
): void {
  const measures = spec.measures;
  if (measures === undefined) return;
  const steps = new Map<string, StepSpec>(allSteps(spec).map(({ step }) => [step.id, step]));
  // An assessment's deadlines are its review's (条块考核 审定).
  const deadlinesOf = (step: StepSpec | undefined): string[] =>
    step === undefined
      ? []
      : step.type === 'assessment'
        ? step.review.deadlines.map((d) => d.id)
        : 'deadlines' in step
          ? step.deadlines.map((d) => d.id)
          : [];

  const acceptance = measures.acceptance ?? [];
  acceptance.forEach((id, i) => {
    const step = steps.get(id);
    if (step === undefined) report(`measures.acceptance[${i}]`, `unknown step "${id}"`);
    else if (step.type !== 'task' && step.type !== 'claim') {
      report(
        `measures.acceptance[${i}]`,
        `step "${id}" is a ${step.type} step: the acceptance (接单) is a task or claim step`,
      );
    }
  });

  const acceptanceDeadlines = asList(measures.acceptanceDeadline);
  if (acceptanceDeadlines.length > 0 && measures.acceptance === undefined) {
    report(
      'measures.acceptanceDeadline',
      'declare the acceptance step(s) whose deadline this is (measures.acceptance)',
    );
  } else if (acceptanceDeadlines.length > 0) {
    const own = [...new Set(acceptance.flatMap((id) => deadlinesOf(steps.get(id))))];
    acceptanceDeadlines.forEach((id, i) => {
      if (!own.includes(id)) {
        report(
          pathOf('measures.acceptanceDeadline', measures.acceptanceDeadline, i),
          `no acceptance step has a deadline "${id}"${hint(own)}`,
        );
      }
    });
  }

  const all = [
    ...new Set([
      ...spec.deadlines.map((d) => d.id),
      ...[...steps.values()].flatMap((step) => deadlinesOf(step)),
    ]),
  ];
  asList(measures.completionDeadline).forEach((id, i) => {
    if (!all.includes(id)) {
      report(
        pathOf('measures.completionDeadline', measures.completionDeadline, i),
        `no deadline "${id}" in the definition (a case deadline or one of a step)${hint(all)}`,
      );
    }
  });

  for (const list of ['resolved', 'explained', 'excluded', 'extended'] as const) {
    (measures[list] ?? []).forEach((match, i) => {
      const path = `measures.${list}[${i}]`;
      const step = steps.get(match.step);
      if (step === undefined) {
        report(`${path}.step`, `unknown step "${match.step}"`);
        return;
      }
      if (list === 'excluded' && step.type === 'end') {
        if (match.outcome !== undefined) {
          report(`${path}.outcome`, `end step "${step.id}" has no outcomes: leave outcome out`);
        }
        return;
      }
      if (step.type !== 'task') {
        report(
          `${path}.step`,
          list === 'excluded'
            ? `step "${step.id}" is a ${step.type} step: name a task step with its outcome, or an end step`
            : `step "${step.id}" is a ${step.type} step: name a task step with its outcome`,
        );
        return;
      }
      const outcomes = step.outcomes.map((o) => o.id);
      if (match.outcome === undefined) {
        report(
          `${path}.outcome`,
          `name the outcome of "${step.id}": one of ${outcomes.join(', ')}`,
        );
      } else if (!outcomes.includes(match.outcome)) {
        report(
          `${path}.outcome`,
          `step "${step.id}" has no outcome "${match.outcome}": use one of ${outcomes.join(', ')}`,
        );
      }
    });
  }
  const both = (measures.resolved ?? []).filter((r) =>
    (measures.explained ?? []).some((e) => e.step === r.step && e.outcome === r.outcome),
  );
  for (const match of both) {
    report(
      'measures.explained',
      `outcome "${match.outcome}" of "${match.step}" is declared both resolved and explained`,
    );
  }

  if (measures.disputes !== undefined) {
    checkExpression('measures.disputes.found', measures.disputes.found);
    checkExpression('measures.disputes.resolved', measures.disputes.resolved);
  }
}

function hint(ids: readonly string[]): string {
  return ids.length > 0 ? `: use one of ${ids.join(', ')}` : '';
}

/** A deadline id or a list of them, as a list. */
export function asList(value: string | readonly string[] | undefined): readonly string[] {
  return value === undefined ? [] : typeof value === 'string' ? [value] : value;
}

function pathOf(path: string, value: string | readonly string[] | undefined, i: number): string {
  return typeof value === 'string' ? path : `${path}[${i}]`;
}
