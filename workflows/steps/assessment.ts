import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { CaseActivities } from '../../activities';
import type { AssessmentStepSpec } from '../../lang/definition';
import { reviewTaskStep, vetoesOf } from '../../lang/assessment';
import { evaluateValue } from '../../lang/expression';
import { deadlineInstant } from '../clocks';
import { ENGINE } from '../projection';
import type { CaseRun } from '../run';
import { appliesSince2026_11, CHANGES_SINCE_2026_11 } from '../patches';
import { closeCase } from './end';
import { startInstant } from './evaluation';
import { runTaskStep } from './task';

/**
 * The `assessment` step (条块考核): the street scores the departments that served its cases. An
 * activity sums each department's figures over the period's cases of the named processes
 * (activities/department-assessments.ts) and scores them with the step's weights; the review
 * task (lang/assessment.ts) lets the street's leadership confirm them and veto departments
 * (一票否决), each with its reason; a second activity writes the annual assessment records (kind
 * `department`, with the street's weight). The figures are a few per department (a county has
 * a few dozen), so they ride in the history; the cases never do.
 */

/** Summing a street's year of cases may take a while; retried, as every read is. */
const assessments = proxyActivities<CaseActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function runAssessment(
  run: CaseRun,
  step: AssessmentStepSpec,
  visit: number,
): Promise<void> {
  const refuse = async (detail: Record<string, string | number>, message: string) => {
    run.projection.record('assessment.refused', ENGINE, step.id, detail);
    await closeCase(run, step.id, 'failed');
    throw ApplicationFailure.nonRetryable(message, 'AssessmentRefused');
  };
  if (!appliesSince2026_11(CHANGES_SINCE_2026_11.departmentAssessment)) {
    // Never on a first run; a history recorded without the step cannot reach it.
    await refuse({ reason: 'interpreter' }, `Step "${step.id}" needs a newer interpreter`);
  }
  const scope = run.expressionScope();
  const from = startInstant(evaluateValue(step.cases.from, scope));
  const to = deadlineInstant(evaluateValue(step.cases.to, scope));
  if (from === null || to === null || to <= from) {
    await refuse(
      { reason: 'period' },
      `Step "${step.id}": cases.from and cases.to must give dates or instants, from before to`,
    );
  }
  const period = { from: new Date(from!).toISOString(), to: new Date(to!).toISOString() };
  const computed = await assessments.computeDepartmentFigures({
    caseId: run.caseId,
    unitId: run.caseUnitId,
    ...period,
    definitions: step.cases.definitions,
    subjects: step.subjects,
    figures: step.figures,
  });
  if (computed.refused) {
    await refuse(
      { reason: computed.reason, count: computed.count },
      computed.reason === 'too-many-cases'
        ? `Step "${step.id}" found ${computed.count} cases, more than one assessment reads: assess each street`
        : `Step "${step.id}" found ${computed.count} departments, more than one assessment scores`,
    );
    return;
  }
  const departments = computed.departments;
  run.projection.record('assessment.computed', ENGINE, step.id, {
    cases: computed.cases,
    departments: departments.length,
  });

  // The leadership's review: a task of this step (its deadlines remind and escalate as any task's).
  run.assessment = { stepId: step.id, departments: departments.map((d) => d.unitId) };
  try {
    await runTaskStep(run, reviewTaskStep(step), visit);
  } finally {
    run.assessment = null;
  }
  const review = run.steps[step.id] ?? {};
  const checked = vetoesOf(
    review.form,
    departments.map((d) => d.unitId),
  );
  // The completion's validator refused anything else; a review closed otherwise vetoes nobody.
  const vetoes = checked.ok ? checked.vetoes : [];
  const by = typeof review.by === 'string' ? review.by : null;
  const recorded = await assessments.recordDepartmentAssessment({
    caseId: run.caseId,
    unitId: run.caseUnitId,
    period,
    closedAt: new Date().toISOString(),
    weight: step.weight,
    departments,
    vetoes,
    by,
  });
  run.projection.record('assessment.recorded', ENGINE, step.id, {
    departments: recorded.records,
    vetoed: recorded.vetoed,
  });
  run.steps[step.id] = {
    ...review,
    status: 'confirmed',
    count: departments.length,
    scored: departments.filter((d) => d.score !== null).length,
    vetoed: recorded.vetoed,
  };
}
