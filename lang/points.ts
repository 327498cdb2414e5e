import type { DefinitionSpec, PeopleSelector, StepSpec } from './definition';
import { allSteps } from './steps';

// Volunteer points (积分) in a definition: which completed task or claim step earns whom how many
// points. Types only from the language (the workflow imports this file; the zod schema of a rule
// lives in definition.ts beside the other schemas), so the workflow bundle stays small.

/** Who a rule awards: the task's assignee, a pool's claimants, or any people selector. */
export type PointsRecipient = 'assignee' | 'claimants' | PeopleSelector;

/** One rule of a definition's top-level `points` list (see docs/definition-language.md 3.4). */
export interface PointsRuleSpec {
  /** The event: the named task completed (with this outcome, when given), or the pool closed. */
  when: { step: string; outcome?: string | undefined };
  /** Who earns the points; default `assignee` on a task, `claimants` on a claim pool. */
  to?: PointsRecipient | PointsRecipient[] | undefined;
  /** Whole points per person, 1–10000, or an expression giving them when the step completes. */
  points: number | { expression: string };
  /** Why (the ledger shows it): 完成微心愿. */
  reason: string;
}

/** The recipients of a rule as a list, with the default for the step's type filled in. */
export function recipientsOfRule(
  rule: PointsRuleSpec,
  stepType: 'task' | 'claim',
): PointsRecipient[] {
  if (rule.to === undefined) return [stepType === 'task' ? 'assignee' : 'claimants'];
  return Array.isArray(rule.to) ? rule.to : [rule.to];
}

/**
 * The rules (with their index in `points`) a finished task or pool matches: the same step, the
 * step completed (not returned, cancelled or unclaimed) and, when the rule names one, the outcome.
 */
export function matchingRules(
  spec: Pick<DefinitionSpec, 'points'>,
  stepId: string,
  result: { status?: string | undefined; outcome?: string | null | undefined },
): Array<{ rule: PointsRuleSpec; index: number }> {
  const rules = spec.points ?? [];
  if (rules.length === 0 || result.status !== 'completed') return [];
  return rules.flatMap((rule, index) =>
    rule.when.step === stepId &&
    (rule.when.outcome === undefined || rule.when.outcome === result.outcome)
      ? [{ rule, index }]
      : [],
  );
}

/**
 * The points a rule's computed value gives each person (`points: { expression }`): a finite
 * number rounded to the nearest whole point (chosen: 2.5 hours earn 3) and capped at
 * {@link MAX_POINTS}; null (nothing awarded) for anything else or below 1 once rounded.
 */
export function pointsFromValue(value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  const rounded = Math.round(value);
  return rounded < 1 ? null : Math.min(rounded, MAX_POINTS);
}

/** The most points one rule awards a person (definition.ts MAX_POINTS_PER_RULE, repeated to stay zod-free). */
export const MAX_POINTS = 10_000;

/**
 * The idempotency key of one award: a retried or replayed activity writes the same ledger entry
 * once. A task id is `<case id>.<step id>.<visit>`, so loops (a second visit) earn again.
 */
export function awardKey(
  caseId: string,
  taskId: string,
  personId: string,
  ruleIndex: number,
): string {
  return `earn:${caseId}:${taskId}:${personId}:${ruleIndex}`;
}

/**
 * Checks the meaning of `points` on a well-formed definition: each rule names a task or claim
 * step, an outcome that step has, recipients that exist on that kind of step. Reports through the
 * validator's callbacks, so problems come out with every other problem of the definition.
 */
export function checkPointsRules(
  spec: DefinitionSpec,
  report: (path: string, message: string) => void,
  checkSelector: (path: string, selector: PeopleSelector) => void,
  checkExpression: (path: string, expression: string) => void,
): void {
  const steps = new Map<string, StepSpec>(allSteps(spec).map(({ step }) => [step.id, step]));
  (spec.points ?? []).forEach((rule, i) => {
    const path = `points[${i}]`;
    const step = steps.get(rule.when.step);
    if (step === undefined) {
      report(`${path}.when.step`, `unknown step "${rule.when.step}"`);
      return;
    }
    if (step.type !== 'task' && step.type !== 'claim') {
      report(
        `${path}.when.step`,
        `step "${step.id}" is a ${step.type} step: points are earned when a task or claim step completes`,
      );
      return;
    }
    if (rule.when.outcome !== undefined) {
      if (step.type === 'claim') {
        report(
          `${path}.when.outcome`,
          `claim step "${step.id}" has no outcomes: leave outcome out (points are earned when the pool closes with enough claimants)`,
        );
      } else if (!step.outcomes.some((o) => o.id === rule.when.outcome)) {
        report(
          `${path}.when.outcome`,
          `step "${step.id}" has no outcome "${rule.when.outcome}": use one of ${step.outcomes.map((o) => o.id).join(', ')}`,
        );
      }
    }
    if (typeof rule.points === 'object') {
      checkExpression(`${path}.points.expression`, rule.points.expression);
    }
    const list = rule.to === undefined ? [] : Array.isArray(rule.to) ? rule.to : [rule.to];
    list.forEach((recipient, r) => {
      const at = Array.isArray(rule.to) ? `${path}.to[${r}]` : `${path}.to`;
      if (recipient === 'assignee' && step.type === 'claim') {
        report(at, `claim step "${step.id}" has no assignee: award its claimants`);
      } else if (recipient === 'claimants' && step.type === 'task') {
        report(
          at,
          `task step "${step.id}" has no claimants: award its assignee, or { claimantsOf: <claim step> }`,
        );
      } else if (typeof recipient === 'object') {
        checkSelector(at, recipient);
      }
    });
  });
}
