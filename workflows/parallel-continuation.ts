import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  workflowInfo,
} from '@temporalio/workflow';
import type { CarriedBranch, CaseContinuation, CaseWorkflowInput } from '../common/case';
import type { StepList } from '../lang/steps';
import type { Clock } from './clocks';
import { caseStateToCarry, historyNearLimit } from './continuation';
import type { CaseRun, ParkedStep } from './run';

/**
 * Continue-as-new inside a `parallel` step (docs/definition-language.md 16.5). A loop in a branch
 * (a site review every 30 days beside the project's own work, a task sent back again and again)
 * never reaches a top-level step boundary, so `continueIfLong` (./continuation.ts) never sees it.
 * Instead, while the parallel runs, a watcher waits for a moment when the history has passed the
 * thresholds and every branch is finished or idle where it can be carried:
 *
 * - waiting in a `timer` step: carried as the absolute instant it resolved to, so the next run
 *   sleeps only what is left;
 * - waiting on a `task` step's task (open or claimed): carried with its id, people, claim, release
 *   counts, form prefill, document version and its clocks' plans and firings (nothing restarts,
 *   nothing fires twice), so the people working on it notice nothing.
 *
 * And nothing else under way: no Update or Signal handler running, no other task open (a claim
 * pool, a roll-call, a supervision slip), no clock planning or firing, nothing unwritten. A branch
 * in any other step (a claim pool, a sub-process waiting for its child, a feedback wait, an
 * activity in flight) keeps the whole parallel in its run until it moves on: those are not carried.
 * The next run starts at the parallel step and runs each carried branch from where it waited.
 */

/**
 * Its own `patched()`, asked only once a parallel's history has passed a threshold with every
 * branch idle: cases recorded before it never asked and replay as they ran, growing as before.
 */
export const CONTINUES_AS_NEW_IN_PARALLEL = 'continues-as-new-in-parallel';

/** The step each branch waits in, or null when one branch is neither finished nor parked. */
function parkedBranches(
  run: CaseRun,
  lists: readonly StepList[],
  finished: readonly boolean[],
): Array<ParkedStep | 'done'> | null {
  const states: Array<ParkedStep | 'done'> = [];
  for (const [index, list] of lists.entries()) {
    if (finished[index]) {
      states.push('done');
      continue;
    }
    const parked = list.steps.flatMap((step) => {
      const found = run.parked.get(step.id);
      return found ? [found] : [];
    });
    if (parked.length !== 1) return null;
    states.push(parked[0]!);
  }
  return states;
}

/** The clocks of the parked tasks: they go on in the next run with their tasks. */
function parkedTaskClocks(states: ReadonlyArray<ParkedStep | 'done'>): Clock[] {
  return states.flatMap((state) =>
    state !== 'done' && state.kind === 'task' ? state.task.clocks : [],
  );
}

/**
 * Whether this is a moment to switch, read without a command: every branch finished or parked,
 * no handler running, no task open but the parked ones, no evaluation round open, and every clock
 * that goes on (the case's, the parked tasks') idle; all others stopped.
 */
function idleEnough(run: CaseRun, states: ReadonlyArray<ParkedStep | 'done'>): boolean {
  if (!allHandlersFinished()) return false;
  const parkedTasks = new Set(
    states.flatMap((state) => (state !== 'done' && state.kind === 'task' ? [state.task] : [])),
  );
  for (const task of run.tasks.values()) {
    if (task.isOpen() && !parkedTasks.has(task)) return false;
    if (parkedTasks.has(task) && !task.isOpen()) return false;
  }
  if (run.evaluation !== null && !run.evaluation.closed) return false;
  const kept = parkedTaskClocks(states);
  for (const clock of run.clocks) {
    const goesOn = run.caseClocks.includes(clock) || kept.includes(clock);
    if (goesOn ? clock.carry() === null : !clock.stopped) return false;
  }
  return true;
}

/** The case's state for the next run, which starts again at the parallel step; null if not now. */
function continuationInParallel(
  run: CaseRun,
  parallelStepId: string,
  lists: readonly StepList[],
  finished: readonly boolean[],
): CaseContinuation | null {
  const states = parkedBranches(run, lists, finished);
  if (states === null || !idleEnough(run, states)) return null;
  const carried = caseStateToCarry(run, parallelStepId, run.caseClocks, parkedTaskClocks(states));
  if (carried === null) return null;
  const branches: CarriedBranch[] = [];
  for (const state of states) {
    if (state === 'done') {
      branches.push({ state: 'done' });
    } else if (state.kind === 'timer') {
      const { stepId, dueAt, detail } = state;
      branches.push({ state: 'timer', stepId, dueAt, detail });
    } else {
      const { task } = state;
      const clocks = [];
      for (const clock of task.clocks) {
        const clockState = clock.carry();
        if (clockState === null) return null;
        clocks.push(clockState);
      }
      branches.push({
        state: 'task',
        stepId: state.stepId,
        visit: state.visit,
        task: {
          id: task.id,
          status: task.status,
          candidates: task.candidates,
          assignee: task.assignee,
          claimants: task.claimants,
          unitId: task.unitId,
          openedAt: task.openedAt,
          releases: Object.fromEntries(task.releases),
          prefill: task.prefill,
          version: run.projection.taskVersionOf(task.id),
          clocks,
        },
      });
    }
  }
  return { ...carried, parallel: { branches } };
}

/**
 * Watches a running `parallel` step and continues the case as new inside it when its history is
 * long and every branch is idle where it can be carried (see above). Resolves when `over()` (the
 * step finished); otherwise never returns: `continueAsNew` throws, and the step rethrows it.
 * Adds no command while the history is short, and none while a branch is busy.
 */
export async function watchParallel(
  run: CaseRun,
  parallelStepId: string,
  lists: readonly StepList[],
  finished: readonly boolean[],
  over: () => boolean,
): Promise<void> {
  const ready = () => {
    if (!historyNearLimit(run)) return false;
    const states = parkedBranches(run, lists, finished);
    return states !== null && idleEnough(run, states);
  };
  for (;;) {
    await condition(() => over() || ready());
    if (over()) return;
    if (!patched(CONTINUES_AS_NEW_IN_PARALLEL)) return;
    const seen = run.parkChanges;
    // A handler may have recorded entries it has not written: they go now.
    await run.projection.flush();
    const carried = over() ? null : continuationInParallel(run, parallelStepId, lists, finished);
    if (carried === null) {
      // Something moved while the entries were written: ask again once a branch has moved on.
      await condition(() => over() || run.parkChanges !== seen);
      continue;
    }
    const info = workflowInfo();
    log.info('Case continues as new inside a parallel step', {
      caseId: run.caseId,
      run: carried.run,
      stepId: parallelStepId,
      historyLength: info.historyLength,
      historySize: info.historySize,
      updatesAccepted: run.updatesAccepted,
    });
    const next: CaseWorkflowInput = { ...run.input, continued: carried };
    delete next.resume;
    await continueAsNew<(input: CaseWorkflowInput) => Promise<unknown>>(next);
  }
}
