import { upsertSearchAttributes } from '@temporalio/workflow';
import { CASE_STATUS } from '../../common/search-attributes';
import { evaluateValue } from '../../lang/expression';
import { handedResult } from '../child-results';
import { ENGINE } from '../projection';
import type { CaseRun } from '../run';

/**
 * The `end` step, and any step that must end the case early (a fan-out or an evaluation round
 * refused as too large ends it `failed`): open tasks are withdrawn, every clock stops, the case
 * document is closed and the `CaseStatus` search attribute set.
 */
export async function closeCase(
  run: CaseRun,
  stepId: string,
  status: 'closed' | 'rejected' | 'cancelled' | 'failed',
): Promise<void> {
  run.closed = true;
  for (const task of run.tasks.values()) {
    if (task.isOpen()) {
      task.finish('cancelled');
      // A supervision slip still open when its case ends has nothing left to supervise.
      run.projection.record(
        task.supervision ? 'supervision.moot' : 'task.cancelled',
        ENGINE,
        task.step.id,
        { task: task.id },
      );
    }
  }
  for (const clock of run.clocks) clock.stop();
  if (run.clocks.length > 0) run.projection.deadlinesChangedNow();
  const disputes = run.spec.measures?.disputes;
  if (disputes !== undefined) {
    // Pure evaluation on the case's data (no command): replay computes the same figures.
    const scope = run.expressionScope();
    const found = figureOf(disputes.found, scope);
    const resolved = figureOf(disputes.resolved, scope);
    run.projection.measureDisputes(found, resolved);
    // Handed to the round that started this case, which sums its children (workflows/disputes.ts).
    run.disputes = { disputesFound: wholeOrZero(found), disputesResolved: wholeOrZero(resolved) };
  }
  // Handed to the case that started this one (a sub-process): pure, as the figures above.
  run.handed = handedResult(
    run.spec.result,
    stepId,
    run.spec.result !== undefined ? run.expressionScope() : {},
  );
  run.projection.close(status, stepId);
  await run.projection.flush({ closedAt: new Date().toISOString() });
  upsertSearchAttributes([{ key: CASE_STATUS, value: status }]);
}

/**
 * A dispute figure: the expression's number, or 0 when it gave anything else (a missing report)
 * or could not be evaluated: a figure never stops a case from closing.
 */
function figureOf(source: string, scope: Record<string, unknown>): number {
  try {
    const value = evaluateValue(source, scope);
    return typeof value === 'number' && Number.isFinite(value) ? value : 0;
  } catch {
    return 0;
  }
}

/** A dispute count as the case's measures keep it: a whole number, 0 for anything else. */
function wholeOrZero(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
