import { ApplicationFailure, CancellationScope, isCancellation } from '@temporalio/workflow';
import type { CarriedBranch, CarriedParallel } from '../../common/case';
import type { StepSpec } from '../../lang/definition';
import type { StepList } from '../../lang/steps';
import { branchLists } from '../../lang/steps';
import { watchParallel } from '../parallel-continuation';
import type { CaseRun } from '../run';
import { resumeTask } from './task';
import { resumeTimer } from './timer';

/**
 * Runs one list of steps to its end; the interpreter's loop (case-workflow.ts) is passed in. With
 * `resumeFirst`, the first step is one a previous run carried (its visit counted, its entry
 * recorded there): `resumeFirst` finishes it and the list goes on from its successor.
 */
export type RunList = (
  run: CaseRun,
  list: StepList,
  startId: string,
  resumeFirst?: ResumeStep,
) => Promise<unknown>;

/** Finishes a step carried from a previous run; answers its explicit next step, if any. */
export type ResumeStep = (step: StepSpec) => Promise<string | undefined>;

/**
 * The `parallel` step: every branch runs in one cancellation scope; `join: all` waits for all,
 * `join: any` for the first and `join: { atLeast: k }` for k of them, then cancels the others
 * (their tasks are withdrawn).
 */
export async function runParallel(
  run: CaseRun,
  step: Extract<StepSpec, { type: 'parallel' }>,
  runList: RunList,
  carried?: CarriedParallel,
): Promise<string | undefined> {
  const lists = branchLists(step, 'steps');
  await run.projection.flush();
  const scope = new CancellationScope();
  const branches = lists.map((list, index) =>
    scope.run(() =>
      carried
        ? resumeBranch(run, list, carried.branches[index]!, runList)
        : runList(run, list, list.steps[0]!.id),
    ),
  );
  // A long history continues as new inside the step, when every branch waits where it can be
  // carried (../parallel-continuation.ts): the watcher rejects with the switch, never resolves
  // before the step is over, and adds no command otherwise.
  const finished = branches.map(() => false);
  // A branch that failed is never carried: the step is over, the failure is the join's to throw.
  let failed = false;
  branches.forEach((branch, index) => {
    branch.then(
      () => (finished[index] = true),
      () => (failed = true),
    );
  });
  let over = false;
  const decided = () => over || failed || joinReached(step, finished);
  const switching = watchParallel(run, step.id, lists, finished, decided);
  try {
    await runBranches(step, branches, scope, switching);
  } finally {
    over = true;
  }
  return undefined;
}

/** Waits for the branches as `join` says, or for the watcher's switch to a next run. */
async function runBranches(
  step: Extract<StepSpec, { type: 'parallel' }>,
  branches: ReadonlyArray<Promise<unknown>>,
  scope: CancellationScope,
  switching: Promise<void>,
): Promise<void> {
  const orSwitch = <T>(joined: Promise<T>) => Promise.race([joined, switching.then(() => joined)]);
  if (step.join === 'all') {
    await orSwitch(Promise.all(branches));
  } else {
    if (step.join === 'any') await orSwitch(Promise.race(branches));
    else await orSwitch(quorum(branches, step.join.atLeast));
    scope.cancel();
    const settled = await Promise.allSettled(branches);
    for (const result of settled) {
      if (result.status === 'rejected' && !isCancellation(result.reason)) throw result.reason;
    }
  }
}

/** Whether enough branches finished for the step to end (the others are being cancelled). */
function joinReached(
  step: Extract<StepSpec, { type: 'parallel' }>,
  finished: readonly boolean[],
): boolean {
  const count = finished.filter(Boolean).length;
  if (step.join === 'all') return count === finished.length;
  return count >= (step.join === 'any' ? 1 : step.join.atLeast);
}

/**
 * A branch as a previous run carried it: finished (nothing to run), or waiting in a timer or on a
 * task, which it finishes before going on with the branch's next steps.
 */
function resumeBranch(
  run: CaseRun,
  list: StepList,
  branch: CarriedBranch,
  runList: RunList,
): Promise<unknown> {
  if (branch.state === 'done') return Promise.resolve();
  if (branch.state === 'timer') {
    return runList(run, list, branch.stepId, async (step) => {
      if (step.type !== 'timer') throw notCarried(step);
      await resumeTimer(run, step, branch);
      return undefined;
    });
  }
  return runList(run, list, branch.stepId, (step) => {
    if (step.type !== 'task') throw notCarried(step);
    return resumeTask(run, step, branch.visit, branch.task);
  });
}

/** A carried branch names a step of another type: the definition snapshot changed under it. */
function notCarried(step: StepSpec): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `Step "${step.id}" (${step.type}) cannot go on from where the previous run left it`,
    'DefinitionInvalid',
  );
}

/**
 * Resolves once `needed` of the branches have finished; rejects with the first branch that fails
 * before then, as `Promise.race` does for `join: any`.
 */
function quorum(branches: ReadonlyArray<Promise<unknown>>, needed: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let finished = 0;
    for (const branch of branches) {
      branch.then(() => {
        finished += 1;
        if (finished >= needed) resolve();
      }, reject);
    }
  });
}
