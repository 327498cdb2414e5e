import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { CaseStartMemo } from '../common/case-start';
import { caseStartMemoOf } from '../common/case-start';

/**
 * The start memo and time of a case Temporal knows, or null: for a case accepted but not yet
 * projected, the memo says whose it is (its creator and unit) before the read model does.
 */
export async function startOf(
  temporal: Client,
  caseId: string,
): Promise<{ memo: CaseStartMemo; startTime: Date } | null> {
  try {
    const description = await temporal.workflow.getHandle(caseId).describe();
    const memo = caseStartMemoOf(description.memo);
    return memo ? { memo, startTime: description.startTime } : null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}
