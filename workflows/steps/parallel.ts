import { CancellationScope, isCancellation } from '@temporalio/workflow';
import type { StepSpec } from '../../lang/definition';
import type { StepList } from '../../lang/steps';
import { branchLists } from '../../lang/steps';
import type { CaseRun } from '../run';

/** Runs one list of steps to its end; the interpreter's loop (case-workflow.ts) is passed in. */
export type RunList = (run: CaseRun, list: StepList, startId: string) => Promise<unknown>;

/**
 * The `parallel` step: every branch runs in one cancellation scope; `join: all` waits for all,
 * `join: any` for the first and `join: { atLeast: k }` for k of them, then cancels the others
 * (their tasks are withdrawn).
 */
export async function runParallel(
  run: CaseRun,
  step: Extract<StepSpec, { type: 'parallel' }>,
  runList: RunList,
): Promise<string | undefined> {
  const lists = branchLists(step, 'steps');
  await run.projection.flush();
  const scope = new CancellationScope();
  const branches = lists.map((list) => scope.run(() => runList(run, list, list.steps[0]!.id)));
  if (step.join === 'all') {
    await Promise.all(branches);
  } else {
    if (step.join === 'any') await Promise.race(branches);
    else await quorum(branches, step.join.atLeast);
    scope.cancel();
    const settled = await Promise.allSettled(branches);
    for (const result of settled) {
      if (result.status === 'rejected' && !isCancellation(result.reason)) throw result.reason;
    }
  }
  return undefined;
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
