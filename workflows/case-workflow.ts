import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  TemporalFailure,
  allHandlersFinished,
  condition,
  isCancellation,
  log,
  patched,
} from '@temporalio/workflow';
import type { CaseOpening, CaseWorkflowInput } from '../common/case';
import type { StepList } from '../lang/steps';
import { allSteps, nextStepId, startStepId, topLevel } from '../lang/steps';
import type { CarriedClock } from './clocks';
import { Clock, deadlineAfter, plansAfter, runnableDeadline } from './clocks';
import { continueIfLong, historyNearLimit } from './continuation';
import { registerHandlers } from './handlers';
import {
  applies,
  appliesSince2026_12,
  CASE_FAILURE_PROJECTED,
  CHANGES,
  CHANGES_SINCE_2026_12,
  PINNED_SUBPROCESS_VERSIONS,
  rosterOpenedInOneActivity,
} from './patches';
import { CaseProjection, ENGINE } from './projection';
import type { CaseWorkflowResult } from './run';
import { CaseRun, DefinitionLoopError } from './run';
import type { ResumeStep } from './steps';
import { closeCase, runStep } from './steps';
import { runParallel } from './steps/parallel';
import { opensInOneActivity } from './steps/task';
import { lookups, mail } from './stubs';

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
  const carried = input.continued;
  const projection = new CaseProjection(
    input.caseId,
    input.resume,
    input.definition.spec.measures,
    carried,
  );
  const run = new CaseRun(input, projection);
  // A continued run lists its case clocks, then the task deadlines the earlier runs showed.
  const shownBefore = carried?.deadlines ?? [];
  projection.trackDeadlines(() => {
    const views = run.clocks.map((c) => c.view());
    if (shownBefore.length === 0) return views;
    const caseCount = carried!.clocks.length;
    return [...views.slice(0, caseCount), ...shownBefore, ...views.slice(caseCount)];
  });
  registerHandlers(run);

  if (carried) {
    // A run continued as new (./continuation.ts): the document goes on as the last run left it.
    log.info('Case run continued', { caseId: input.caseId, run: carried.run });
  } else if (input.resume) {
    // A retry of a failed case: the document exists; it opens again at the chosen step.
    projection.record('case.retried', input.resume.by, input.resume.stepId, {
      definition: input.definition.key,
      version: input.definition.version,
    });
    await projection.flush({ reopen: true });
  } else {
    projection.record('case.started', input.startedBy, undefined, {
      definition: input.definition.key,
      version: input.definition.version,
      channel: input.channel,
    });
    // A first task writes the opening with itself (every write inserts a held opening first),
    // and so does a first roll-call opened in one activity: after its roster and its call.
    const firstStep = topLevel(run.spec).steps.find((s) => s.id === startStepId(run.spec));
    if (
      firstStep?.type === 'task' &&
      appliesSince2026_12(CHANGES_SINCE_2026_12.openingRidesFirstTask)
    ) {
      projection.openWithNextWrite(openingOf(input));
    } else if (
      firstStep !== undefined &&
      opensInOneActivity(firstStep) &&
      rosterOpenedInOneActivity()
    ) {
      projection.openWithNextWrite(openingOf(input));
    } else {
      await projection.flush({ opening: openingOf(input) });
    }
  }

  let caseClockRuns: Promise<void>[] = [];
  try {
    let caseClocks: Clock[];
    if (carried) {
      // Pinned versions came with the carried state; the case clocks go on as they stood.
      caseClocks = (carried.clocks as CarriedClock[]).map((clock) => Clock.restore(clock));
      run.clocks.push(...caseClocks);
      caseClockRuns = caseClocks.map((clock) => clock.run(run));
    } else {
      // The child processes it may start are pinned now: an edit published while it runs does
      // not change what it starts (asked only by definitions with sub-process steps).
      const childKeys = allSteps(run.spec).flatMap(({ step }) =>
        step.type === 'subprocess' ? [step.definition] : [],
      );
      if (childKeys.length > 0 && patched(PINNED_SUBPROCESS_VERSIONS)) {
        run.pinnedVersions = await lookups.pinDefinitions(childKeys);
      }
      // Planned before the first step, so the first write already shows the case's deadlines
      // (the first step may write before a plan running beside it would return).
      caseClocks = [];
      for (const deadline of run.spec.deadlines) {
        const runnable = plansAfter(deadline)
          ? await deadlineAfter(deadline, input.receivedAt, run.expressionScope(), run.caseUnitId)
          : runnableDeadline(deadline, input.receivedAt, run.expressionScope());
        if (runnable === null) continue;
        caseClocks.push(
          new Clock(`case/${deadline.id}`, runnable, input.receivedAt, undefined, null),
        );
      }
      await Promise.all(caseClocks.map((clock) => clock.replan(run)));
      caseClockRuns = caseClocks.map((clock) => run.startClock(clock));
    }
    run.caseClocks = caseClocks;
    // Between two top-level steps, a case whose history grew long continues as new there.
    const boundary: Boundary = (nextId) => continueIfLong(run, nextId, caseClocks);
    // A run continued inside a parallel step goes on with its branches where they waited.
    const inParallel = carried?.parallel;
    const resumeParallel: ResumeStep | undefined = inParallel
      ? (step) => {
          if (step.type !== 'parallel') {
            throw ApplicationFailure.nonRetryable(
              `Step "${step.id}" is not the parallel step the previous run continued in`,
              'DefinitionInvalid',
            );
          }
          return runParallel(run, step, runList, inParallel);
        }
      : undefined;
    const ending = await runList(
      run,
      topLevel(run.spec),
      carried?.stepId ?? input.resume?.stepId ?? startStepId(run.spec),
      resumeParallel,
      boundary,
    );
    if (ending === 'exited') {
      throw ApplicationFailure.nonRetryable('The case ran past its last step', 'DefinitionInvalid');
    }
  } catch (err) {
    const failure =
      err instanceof DefinitionLoopError
        ? ApplicationFailure.nonRetryable(err.message, 'DefinitionLoop')
        : err;
    await projectFailure(run, failure);
    throw failure;
  }
  for (const clock of run.clocks) clock.stop();
  await Promise.all(caseClockRuns);

  await condition(allHandlersFinished);
  // A case that ran a roll-call, or counted disputes, hands its figures to the parent that
  // started it, and every case its outcome (and its definition's `result` values).
  return {
    ...projection.view(),
    ...(run.rollCall ? { rollCall: run.rollCall } : {}),
    ...(run.disputes ? { disputes: run.disputes } : {}),
    // Its outcome and result values, for a parent's `steps.<id>.outcome`, `.outcomes`, `.totals`.
    ...(run.handed ?? {}),
  };
}

/** How many characters of a failure's message the timeline and the admins' mail keep (chosen). */
const MAX_REASON_LENGTH = 200;

/**
 * An error escaped the steps (a definition loop, a sub-process definition missing or retired, a
 * calendar error, a failed child case…): the case is projected `failed` with the reason, its open
 * tasks withdrawn and its clocks stopped, and the administrators are mailed. The workflow then
 * fails as before (the caller rethrows), so Temporal shows it failed too. A cancellation is left
 * to the reconciler (activities/case-failures.ts), as is a plain `Error` (a bug in the
 * interpreter: its workflow task retries until a fixed worker runs it).
 */
async function projectFailure(run: CaseRun, err: unknown): Promise<void> {
  if (!(err instanceof TemporalFailure) || isCancellation(err)) return;
  // Cases that failed before this change end as recorded: the marker is written only when a
  // case runs into a failure on this code.
  if (!patched(CASE_FAILURE_PROJECTED)) return;
  const reason = reasonOf(err);
  const stepId = run.projection.currentStepId ?? 'case';
  if (!run.closed) {
    run.projection.record('case.failed', ENGINE, stepId, reason);
    await CancellationScope.nonCancellable(() => closeCase(run, stepId, 'failed'));
  }
  try {
    await mail.alertAdmins({ caseId: run.caseId, status: 'failed', reason: reason.reason });
  } catch (alertErr) {
    if (!(alertErr instanceof ActivityFailure)) throw alertErr;
    run.projection.record('notification.failed', ENGINE, stepId, {
      template: 'case-failed',
      reason: 'delivery-failed',
    });
    await run.projection.flush();
  }
}

/** A failure as the timeline keeps it: its kind (error type) and a short message. */
function reasonOf(err: TemporalFailure): { reason: string; message: string } {
  let failure: Error = err;
  let kind = 'Failure';
  if (err instanceof ChildWorkflowFailure) kind = 'ChildCaseFailed';
  else if (err instanceof ActivityFailure && err.cause) failure = err.cause;
  if (failure instanceof ApplicationFailure) kind = failure.type ?? 'ApplicationFailure';
  else if (kind === 'Failure') kind = failure.name;
  return { reason: kind, message: failure.message.slice(0, MAX_REASON_LENGTH) };
}

/** What the top-level list does between two steps (branches pass none). */
type Boundary = (nextStepId: string) => Promise<void>;

/**
 * Runs a list of steps from `startId`: to an end step (top level) or off its end (a branch). With
 * `resumeFirst`, the first step was carried from the previous run (continue-as-new inside a
 * `parallel`): its visit is not counted again, nor its entry recorded; `resumeFirst` finishes it.
 */
async function runList(
  run: CaseRun,
  list: StepList,
  startId: string,
  resumeFirst?: ResumeStep,
  boundary?: Boundary,
): Promise<'ended' | 'exited'> {
  let stepId: string | undefined = startId;
  let resuming = resumeFirst;
  while (stepId !== undefined) {
    const step = list.steps.find((s) => s.id === stepId);
    if (!step) {
      throw ApplicationFailure.nonRetryable(
        `Definition has no step "${stepId}"`,
        'DefinitionInvalid',
      );
    }
    let target: string | undefined;
    if (resuming) {
      run.projection.reenter(step);
      target = await resuming(step);
      resuming = undefined;
    } else {
      const visit = run.visit(step.id, MAX_STEP_VISITS);
      run.projection.enter(step);

      if (step.type === 'end') {
        await closeCase(run, step.id, step.status);
        return 'ended';
      }
      target = await runStep(run, step, visit, runList);
    }
    run.projection.leave(step, run.takeStepSummary(step.id));
    // The entry rides with the next step's write (every step writes before it waits, and so
    // does the end); cases started before this change write it on its own, as recorded.
    if (!applies(CHANGES.stepCompletedRidesNextWrite)) await run.projection.flush();
    stepId = target ?? nextStepId(list, step);
    // Asked with no await unless the history is long: the commands of short cases are unchanged.
    if (boundary && stepId !== undefined && historyNearLimit(run)) await boundary(stepId);
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
