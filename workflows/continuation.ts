import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  workflowInfo,
} from '@temporalio/workflow';
import type { CaseContinuation, CaseWorkflowInput } from '../common/case';
import type { Clock } from './clocks';
import type { CaseRun, StepResult } from './run';

/**
 * Continue-as-new for cases whose history grows long (loops, long-running cases): at a top-level
 * step boundary, when the server suggests it or the history passes the thresholds below, the case
 * hands a compact state to a new run of the same workflow id and goes on there at the next step.
 * The server's own limits are 51,200 events and 50 MB (it terminates the run there) and 2,000
 * Updates per run (it refuses the 2,001st, which the API answers 409: services/temporal-errors.ts);
 * the benchmark's targets are 10,240 events and 10 MB per execution.
 */

/** History events at which a case continues as new at its next step boundary (chosen). */
export const CONTINUE_AS_NEW_AT_EVENTS = 8_000;
/** History bytes at which a case continues as new at its next step boundary (chosen: 8 MB). */
export const CONTINUE_AS_NEW_AT_BYTES = 8 * 1024 * 1024;
/**
 * Updates accepted by this run at which the case continues as new at its next step boundary
 * (chosen: 500 under Temporal's 2,000 per run, the room a run that cannot switch yet, with a task
 * open, keeps for the actions that finish it; the server itself suggests a switch at 1,800).
 */
export const CONTINUE_AS_NEW_AT_UPDATES = 1_500;

/**
 * Its own `patched()`, asked only once a case's history passes a threshold: cases recorded
 * before this change, which never asked, replay as they ran and keep growing as before. The
 * Update count is asked the same way: a run recorded before it was counted that passed 1,500
 * Updates asks the marker on replay where it did not, gets no (the marker is not in its history)
 * and goes on as it ran; live, it switches at its next boundary.
 */
export const CONTINUES_AS_NEW = 'continues-as-new';

/**
 * Whether this run is near one of Temporal's limits, and should continue as new: its history
 * long, or its accepted Updates many (no command: plain reads of deterministic state).
 */
export function historyNearLimit(run: Pick<CaseRun, 'input' | 'updatesAccepted'>): boolean {
  const info = workflowInfo();
  const limits = run.input.historyLimits ?? {
    events: CONTINUE_AS_NEW_AT_EVENTS,
    bytes: CONTINUE_AS_NEW_AT_BYTES,
  };
  return (
    info.continueAsNewSuggested ||
    info.historyLength >= limits.events ||
    info.historySize >= limits.bytes ||
    run.updatesAccepted >= (limits.updates ?? CONTINUE_AS_NEW_AT_UPDATES)
  );
}

/**
 * The state to carry to a run that starts at `stepId`, or null when this is no moment to switch:
 * an Update or Signal handler still running, a task open, an evaluation round open, a task clock
 * still running, a case clock mid-way (planning, reminding or escalating), or entries unwritten.
 */
export function continuationOf(
  run: CaseRun,
  stepId: string,
  caseClocks: readonly Clock[],
): CaseContinuation | null {
  if (!allHandlersFinished()) return null;
  if ([...run.tasks.values()].some((task) => task.isOpen())) return null;
  if (run.evaluation !== null && !run.evaluation.closed) return null;
  if (run.clocks.some((clock) => !clock.stopped && !caseClocks.includes(clock))) return null;
  return caseStateToCarry(run, stepId, caseClocks, []);
}

/**
 * The case's state for a run that starts at `stepId` (the checks of what may be open are the
 * caller's), or null while a case clock is mid-way or entries are unwritten. `keptClocks` are the
 * task clocks that go on in the next run with their tasks (inside a `parallel`): they are not
 * listed among the stopped deadlines the document keeps showing.
 */
export function caseStateToCarry(
  run: CaseRun,
  stepId: string,
  caseClocks: readonly Clock[],
  keptClocks: readonly Clock[],
): CaseContinuation | null {
  const clocks = [];
  for (const clock of caseClocks) {
    const carried = clock.carry();
    if (carried === null) return null;
    clocks.push(carried);
  }
  const projection = run.projection.carry();
  if (projection === null) return null;
  const photosRecorded = run.photosToCarry();
  return {
    run: (run.input.continued?.run ?? 1) + 1,
    stepId,
    ...projection,
    ...run.countersToCarry(),
    steps: run.steps as Record<string, StepResult & Record<string, unknown>>,
    lastOutcome: run.lastOutcome,
    lastForm: run.lastForm,
    shuffles: run.shuffles,
    pinnedVersions: run.pinnedVersions,
    rollCall: run.rollCall as Record<string, unknown> | null,
    feedback: run.feedback,
    pausedSince: run.pausedSince,
    ...(run.slips > 0 ? { slips: run.slips } : {}),
    clocks,
    // The task deadlines the document lists stay listed, as they were last shown.
    deadlines: [
      ...(run.input.continued?.deadlines ?? []),
      ...run.clocks
        .filter((clock) => !caseClocks.includes(clock) && !keptClocks.includes(clock))
        .map((clock) => clock.view()),
    ],
    ...(photosRecorded.length > 0 ? { photosRecorded } : {}),
  };
}

/**
 * Continues the case as new at `stepId` if its history is long and the moment is right; returns
 * (and the case goes on in this run) otherwise. The workflow id stays the case id; memo and search
 * attributes are carried by the server. The next run writes the same case document on from this
 * run's revision and timeline seq: no `case.started`, no reopen, no second timeline of its own.
 */
export async function continueIfLong(
  run: CaseRun,
  stepId: string,
  caseClocks: readonly Clock[],
): Promise<void> {
  if (!historyNearLimit(run)) return;
  if (!patched(CONTINUES_AS_NEW)) return;
  // The Update that finished the last step is usually still writing its answer: let it finish.
  await condition(allHandlersFinished);
  // Whatever the last step left unwritten goes now, so the next run starts from a settled document.
  await run.projection.flush();
  // A Signal, an Update or a clock may have come in while the write was under way.
  const carried = continuationOf(run, stepId, caseClocks);
  if (carried === null) return;
  const info = workflowInfo();
  log.info('Case continues as new', {
    caseId: run.caseId,
    run: carried.run,
    stepId,
    historyLength: info.historyLength,
    historySize: info.historySize,
    updatesAccepted: run.updatesAccepted,
  });
  // A retried run's `resume` stays behind: the next run goes on, it does not reopen the case.
  const next: CaseWorkflowInput = { ...run.input, continued: carried };
  delete next.resume;
  await continueAsNew<(input: CaseWorkflowInput) => Promise<unknown>>(next);
}
