import { upsertSearchAttributes } from '@temporalio/workflow';
import { CASE_STATUS } from '../../common/search-attributes';
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
  run.projection.close(status, stepId);
  await run.projection.flush({ closedAt: new Date().toISOString() });
  upsertSearchAttributes([{ key: CASE_STATUS, value: status }]);
}
