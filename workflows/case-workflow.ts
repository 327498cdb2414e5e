import { ApplicationFailure, allHandlersFinished, condition } from '@temporalio/workflow';
import type { CaseOpening, CaseWorkflowInput } from '../common/case';
import type { StepList } from '../lang/steps';
import { nextStepId, startStepId, topLevel } from '../lang/steps';
import { Clock, runnableDeadline } from './clocks';
import { registerHandlers } from './handlers';
import { applies, CHANGES } from './patches';
import { CaseProjection } from './projection';
import type { CaseWorkflowResult } from './run';
import { CaseRun, DefinitionLoopError } from './run';
import { closeCase, runStep } from './steps';

export type { CaseStateView } from './projection';
export type { CaseWorkflowResult } from './run';

/** A definition that loops forever is a bug in the definition; stop it instead of spinning. */
const MAX_STEP_VISITS = 10_000;

/**
 * The one interpreter: runs any published definition, step by step, projecting every transition
 * into the case document through an idempotent activity. Human actions arrive as Updates whose
 * validators answer at once; SLA clocks run beside the steps on cancellable timers.
 */
export async function caseWorkflow(input: CaseWorkflowInput): Promise<CaseWorkflowResult> {
  const projection = new CaseProjection(input.caseId);
  const run = new CaseRun(input, projection);
  projection.trackDeadlines(() => run.clocks.map((c) => c.view()));
  registerHandlers(run);

  projection.record('case.started', input.startedBy, undefined, {
    definition: input.definition.key,
    version: input.definition.version,
    channel: input.channel,
  });
  await projection.flush({ opening: openingOf(input) });

  // Planned before the first step, so the first write already shows the case's deadlines (the
  // first step may write before a plan running beside it would return).
  const caseClocks = run.spec.deadlines.flatMap((deadline) => {
    const runnable = runnableDeadline(deadline, input.receivedAt, run.expressionScope());
    return runnable === null
      ? []
      : [new Clock(`case/${deadline.id}`, runnable, input.receivedAt, undefined, null)];
  });
  await Promise.all(caseClocks.map((clock) => clock.replan(run)));
  const caseClockRuns = caseClocks.map((clock) => run.startClock(clock));
  try {
    const ending = await runList(run, topLevel(run.spec), startStepId(run.spec));
    if (ending === 'exited') {
      throw ApplicationFailure.nonRetryable('The case ran past its last step', 'DefinitionInvalid');
    }
  } catch (err) {
    if (err instanceof DefinitionLoopError) {
      throw ApplicationFailure.nonRetryable(err.message, 'DefinitionLoop');
    }
    throw err;
  }
  for (const clock of run.clocks) clock.stop();
  await Promise.all(caseClockRuns);

  await condition(allHandlersFinished);
  // A case that ran a roll-call hands its figures to the parent that started it.
  return run.rollCall ? { ...projection.view(), rollCall: run.rollCall } : projection.view();
}

/** Runs a list of steps from `startId`: to an end step (top level) or off its end (a branch). */
async function runList(run: CaseRun, list: StepList, startId: string): Promise<'ended' | 'exited'> {
  let stepId: string | undefined = startId;
  while (stepId !== undefined) {
    const step = list.steps.find((s) => s.id === stepId);
    if (!step) {
      throw ApplicationFailure.nonRetryable(
        `Definition has no step "${stepId}"`,
        'DefinitionInvalid',
      );
    }
    const visit = run.visit(step.id, MAX_STEP_VISITS);
    run.projection.enter(step);

    if (step.type === 'end') {
      await closeCase(run, step.id, step.status);
      return 'ended';
    }
    const target = await runStep(run, step, visit, runList);
    run.projection.leave(step, run.takeStepSummary(step.id));
    // The entry rides with the next step's write (every step writes before it waits, and so
    // does the end); cases started before this change write it on its own, as recorded.
    if (!applies(CHANGES.stepCompletedRidesNextWrite)) await run.projection.flush();
    stepId = target ?? nextStepId(list, step);
  }
  return 'exited';
}

function openingOf(input: CaseWorkflowInput): CaseOpening {
  return {
    definitionKey: input.definition.key,
    definitionVersion: input.definition.version,
    definitionName: input.definition.spec.name,
    data: input.data,
    createdBy: { kind: input.startedBy.kind, id: input.startedBy.id },
    ...(input.unitId !== undefined ? { unitId: input.unitId } : {}),
    ...(input.category !== undefined ? { category: input.category } : {}),
    channel: input.channel,
    requestHash: input.requestHash,
    createdAt: input.receivedAt,
    ...(input.parentCaseId !== undefined ? { parentCaseId: input.parentCaseId } : {}),
  };
}
