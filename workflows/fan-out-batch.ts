import { ParentClosePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import type { CaseWorkflowInput } from '../common/case';
import { CASE_WORKFLOW_TYPE } from '../common/case';
import type { CaseStartMemo } from '../common/case-start';
import type { RollCallFigures } from './roll-call';
import { childRollCall } from './roll-call';
import type { DisputeFigures } from './disputes';
import { childDisputes } from './disputes';
import type { ChildResult } from './child-results';
import { childResult } from './child-results';
import type { CaseWorkflowResult } from './run';

/**
 * A slice of a large fan-out (a county's or city's compounds or grids): the sub-process step
 * (steps/subprocess.ts) hands each slice of at most FAN_OUT_SLICE child cases to one of these, so
 * no execution's history carries more than a slice's starts (each start command carries the
 * child's definition) nor more pending children than the server allows. The children are the
 * parent case's own children in everything but the Temporal parent: their input names the case
 * as `parentCaseId`, so reports find them as before.
 */

export const FAN_OUT_BATCH_TYPE = 'fanOutBatchWorkflow';

type CaseWorkflowFunction = (input: CaseWorkflowInput) => Promise<CaseWorkflowResult>;

export interface FanOutChildStart {
  workflowId: string;
  input: CaseWorkflowInput;
  memo: CaseStartMemo;
}

export interface FanOutBatchInput {
  children: FanOutChildStart[];
  /** Wait for every child and report how each ended; otherwise only start them. */
  wait: boolean;
}

/** How one child ended: its status and, when it ran a roll-call or counted disputes, the figures. */
export type FanOutChildEnd = { caseId: string; status: string } & Partial<RollCallFigures> & {
    disputes?: DisputeFigures;
    /** Its outcome and result values (the child definition's `result`). */
    handed?: ChildResult;
  };

/**
 * Children in slices of `size`, in order, as fan-out batch workflows take them: one list for the
 * sub-process step's fan-out and a schedule's fire over units alike.
 */
export function fanOutSlices(
  children: ReadonlyArray<{
    workflowId: string;
    start: { args: [CaseWorkflowInput]; memo: CaseStartMemo };
  }>,
  size: number,
): FanOutChildStart[][] {
  const slices: FanOutChildStart[][] = [];
  for (let at = 0; at < children.length; at += size) {
    slices.push(
      children.slice(at, at + size).map((child) => ({
        workflowId: child.workflowId,
        input: child.start.args[0],
        memo: child.start.memo,
      })),
    );
  }
  return slices;
}

export async function fanOutBatchWorkflow(input: FanOutBatchInput): Promise<FanOutChildEnd[]> {
  const { taskQueue } = workflowInfo();
  // All start commands go out in one workflow task: the units are called at the same moment.
  const handles = await Promise.all(
    input.children.map((child) =>
      startChild<CaseWorkflowFunction>(CASE_WORKFLOW_TYPE, {
        workflowId: child.workflowId,
        args: [child.input],
        taskQueue,
        memo: child.memo,
        // Started only: the children outlive the slice. Waited for: they end with it.
        ...(input.wait ? {} : { parentClosePolicy: ParentClosePolicy.ABANDON }),
      }),
    ),
  );
  if (!input.wait) {
    return input.children.map((c) => ({ caseId: c.input.caseId, status: 'open' }));
  }
  return Promise.all(
    handles.map(async (handle, i): Promise<FanOutChildEnd> => {
      const result = await handle.result();
      return {
        caseId: input.children[i]!.input.caseId,
        status: result.status,
        ...childRollCall(result),
        ...(childDisputes(result) ? { disputes: childDisputes(result)! } : {}),
        ...(childResult(result) ? { handed: childResult(result)! } : {}),
      };
    }),
  );
}
