import type { ClaimStepSpec, DefinitionSpec, PeopleSelector } from '../lang/definition';
import type { TaskStepSpec } from '../lang/definition';
import { evaluateValue } from '../lang/expression';
import { matchingRules, pointsFromValue, recipientsOfRule } from '../lang/points';
import type { AwardPointsRequest } from '../activities/points';
import type { CaseRun } from './run';
import { store } from './stubs';

/** Whether any points rule names this step (a plain check: no await, no command). */
export function earnsPoints(spec: DefinitionSpec, stepId: string): boolean {
  return (spec.points ?? []).some((rule) => rule.when.step === stepId);
}

/**
 * Works out who earns what for the step that just finished (its matching rules, their
 * recipients) and hands it to the ledger activity in one call. The activity writes each entry
 * under a key of case, task, person and rule, so a retry or a replay never awards twice.
 */
export async function awardPoints(
  run: CaseRun,
  step: TaskStepSpec | ClaimStepSpec,
  visit: number,
): Promise<void> {
  const result = run.steps[step.id];
  if (result === undefined) return;
  const matched = matchingRules(run.spec, step.id, result);
  if (matched.length === 0) return;
  const taskId = `${run.caseId}.${step.id}.${visit}`;
  const task = run.tasks.get(taskId) ?? null;
  const awards: AwardPointsRequest['awards'] = [];
  for (const { rule, index } of matched) {
    // Computed points read the case as the step left it (its form, outcome and `steps`): pure,
    // no command, so only definitions that compute them award differently.
    const points =
      typeof rule.points === 'number'
        ? rule.points
        : pointsFromValue(evaluateValue(rule.points.expression, run.expressionScope()));
    if (points === null) continue;
    const people: string[] = [];
    const add = (personId: string | null | undefined) => {
      if (personId && !people.includes(personId)) people.push(personId);
    };
    const selectors: PeopleSelector[] = [];
    for (const recipient of recipientsOfRule(rule, step.type)) {
      if (recipient === 'assignee') add(result.by);
      else if (recipient === 'claimants') (result.claimants ?? []).forEach(add);
      else selectors.push(recipient);
    }
    if (selectors.length > 0) {
      const resolved = await run.resolvePeople(selectors, task);
      resolved.people.forEach((p) => add(p.personId));
    }
    for (const personId of people) {
      awards.push({ personId, ruleIndex: index, points, reason: rule.reason });
    }
  }
  if (awards.length === 0) return;
  await store.awardPoints({
    caseId: run.caseId,
    taskId,
    stepId: step.id,
    definitionKey: run.input.definition.key,
    caseUnitId: run.caseUnitId,
    at: task?.closedAt ?? new Date().toISOString(),
    awards,
  });
}
