import type { ResolvedPeople } from '../../common/case';
import type { StepSpec } from '../../lang/definition';
import { asList } from '../recipients';
import type { CaseRun } from '../run';

/** The `notify` step: one mail to each recipient, keyed by case, step and visit. */
export function runNotify(
  run: CaseRun,
  step: Extract<StepSpec, { type: 'notify' }>,
  visit: number,
): Promise<ResolvedPeople> {
  return run.notify({
    recipients: asList(step.to),
    template: step.template,
    keyBase: `${run.caseId}:${step.id}:${visit}`,
    stepId: step.id,
    task: null,
    ...(step.channels !== undefined ? { channels: step.channels } : {}),
    ...(step.groupRobot ? { groupRobot: true } : {}),
    context: {
      caseId: run.caseId,
      processName: run.spec.name,
      stepName: step.name,
      receivedAt: run.input.receivedAt,
      data: run.input.data,
    },
  });
}
