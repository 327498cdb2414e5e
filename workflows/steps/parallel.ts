import { CancellationScope, isCancellation } from '@temporalio/workflow';
import type { StepSpec } from '../../lang/definition';
import type { StepList } from '../../lang/steps';
import { branchLists } from '../../lang/steps';
import type { CaseRun } from '../run';

/** Runs one list of steps to its end; the interpreter's loop (case-workflow.ts) is passed in. */
export type RunList = (run: CaseRun, list: StepList, startId: string) => Promise<unknown>;

/**
 * The `parallel` step: every branch runs in one cancellation scope; `join: all` waits for all,
 * `join: any` for the first, then cancels the others (their tasks are withdrawn).
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
    await Promise.race(branches);
    scope.cancel();
    const settled = await Promise.allSettled(branches);
    for (const result of settled) {
      if (result.status === 'rejected' && !isCancellation(result.reason)) throw result.reason;
    }
  }
  return undefined;
}
