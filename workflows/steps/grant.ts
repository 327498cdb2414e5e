import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { CaseActivities } from '../../activities';
import type { CaseWorkflowInput } from '../../common/case';
import type { GrantStepSpec } from '../../lang/definition';
import { evaluateValue } from '../../lang/expression';
import { ENGINE } from '../projection';
import type { CaseRun } from '../run';
import { appliesSince2026_12, CHANGES_SINCE_2026_12 } from '../patches';
import { closeCase } from './end';

/**
 * The `grant` step (登记到组织架构): one activity gives a person a post in the org data
 * (activities/org-grants.ts, through the org service's writes). The timeline says who, where and
 * what by ids only (`org.granted`); a unit that does not exist, an unknown person or a new person
 * without a usable name fail the case, said on its timeline (`org.refused`). With `account:
 * requester` the activity links the person to the filing resident's account, and `org.granted`
 * says what became of the link (`account`). The activity's request and result grew by that field
 * only: no command changes, so no marker (a result recorded before it has no `account`).
 */

/** Two small writes; retried like every activity (the grant is idempotent: a retry grants once). */
const writes = proxyActivities<CaseActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function runGrant(run: CaseRun, step: GrantStepSpec): Promise<void> {
  const refuse = async (reason: string, message: string) => {
    run.projection.record('org.refused', ENGINE, step.id, { post: step.post, reason });
    await closeCase(run, step.id, 'failed');
    throw ApplicationFailure.nonRetryable(message, 'GrantRefused');
  };
  if (!appliesSince2026_12(CHANGES_SINCE_2026_12.orgGrant)) {
    // Never on a first run; a history recorded without the step cannot reach it.
    await refuse('interpreter', `Step "${step.id}" needs a newer interpreter`);
  }
  const scope = run.expressionScope();
  const named = step.person === undefined ? null : evaluateValue(step.person, scope);
  const personId = typeof named === 'string' && named !== '' ? named : null;
  if (personId === null && step.newPerson === undefined) {
    await refuse('person', `Step "${step.id}": person gave no person id, and no newPerson is set`);
    return;
  }
  const newPerson =
    personId !== null || step.newPerson === undefined
      ? null
      : {
          name: evaluateValue(step.newPerson.name, scope),
          phone:
            step.newPerson.phone === undefined ? null : evaluateValue(step.newPerson.phone, scope),
          email:
            step.newPerson.email === undefined ? null : evaluateValue(step.newPerson.email, scope),
        };
  const unit = run.wireUnitRef(step.unit);
  // Only the field a `{ of: { field } }` unit names goes to the activity, not the whole form.
  const field =
    typeof unit === 'object' && typeof unit.of === 'object' && 'field' in unit.of
      ? unit.of.field
      : null;
  const granted = await writes.grantPost({
    caseId: run.caseId,
    stepId: step.id,
    post: step.post,
    unit,
    caseUnitId: run.caseUnitId,
    data: field === null ? {} : { [field]: run.input.data[field] },
    personId,
    newPerson,
    ...(step.account === 'requester'
      ? { account: { userId: residentAccountOf(run.input.startedBy) } }
      : {}),
  });
  if (granted.refused !== null) {
    await refuse(granted.refused, `Step "${step.id}" cannot grant ${step.post}: ${granted.detail}`);
    return;
  }
  // Ids only on the timeline: the person's name and phone stay in the org data.
  run.projection.record('org.granted', ENGINE, step.id, {
    post: step.post,
    unitId: granted.unitId,
    personId: granted.personId,
    created: granted.created,
    alreadyHeld: granted.alreadyHeld,
    // What became of the requester's account: a refused link is said here, never silent.
    ...(granted.account !== undefined ? { account: granted.account } : {}),
  });
  run.steps[step.id] = {
    personId: granted.personId,
    unitId: granted.unitId,
    post: step.post,
    created: granted.created,
    account: granted.account ?? null,
  };
}

/**
 * The account of the resident who filed the case themselves, or null: an account holding a
 * staff role (staff, dispatcher, admin) files for someone else (a walk-in), and an API key, the
 * engine or a quick report's person is no sign-in account of the applicant's.
 */
export function residentAccountOf(startedBy: CaseWorkflowInput['startedBy']): string | null {
  const ownAccount =
    startedBy.kind === 'user' &&
    startedBy.roles.includes('resident') &&
    startedBy.roles.every((role) => role === 'resident');
  return ownAccount ? startedBy.id : null;
}
