import { ParentClosePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import type { CaseWorkflowInput } from '../common/case';
import { CASE_WORKFLOW_TYPE } from '../common/case';
import type { CaseStartMemo } from '../common/case-start';
import { caseStartOf } from '../common/case-start';
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

/**
 * A slice as the parent hands it to a batch. Compact (since the `fan-out-compact-slices` patch):
 * the input fields every child shares (the definition snapshot above all, a few kB) once, and per
 * child only the fields that differ; each child's memo is rebuilt from its input, as every
 * starter builds it (common/case-start.ts). Before, each child's whole input and memo: a slice of
 * 250 emergency compounds was about 1 MB in the parent's history per batch started, so a fan-out
 * of 20,000 (MAX_CHILD_CASES) would have passed the server's 50 MB history limit. Batches started
 * before keep that shape and still run.
 */
export type FanOutBatchInput = LegacyFanOutBatchInput | CompactFanOutBatchInput;

export interface LegacyFanOutBatchInput {
  children: FanOutChildStart[];
  /** Wait for every child and report how each ended; otherwise only start them. */
  wait: boolean;
}

export interface CompactFanOutBatchInput {
  /** The input fields whose values are the same for every child of the slice. */
  shared: Partial<CaseWorkflowInput>;
  /** Per child, in order, the rest of its input (its `caseId` is its workflow id). */
  each: Array<Partial<CaseWorkflowInput>>;
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

/**
 * A slice in the compact shape when every child's input and memo are the ones the start builder
 * gives back from its input and its workflow id is its case id (always so for the sub-process step's and a schedule's starts);
 * otherwise the slice as it is. Deterministic: the same children give the same input.
 */
export function compactSlice(
  children: readonly FanOutChildStart[],
  wait: boolean,
): FanOutBatchInput {
  const rebuildable = children.every((child) => {
    // The batch rebuilds each start through caseStartOf: only a start it gives back whole, input
    // (no field it would drop) and memo alike, may leave its memo out.
    const rebuilt = caseStartOf(child.input);
    return (
      child.workflowId === child.input.caseId &&
      JSON.stringify(rebuilt.args[0]) === JSON.stringify(child.input) &&
      JSON.stringify(rebuilt.memo) === JSON.stringify(child.memo)
    );
  });
  if (!rebuildable || children.length === 0) return { children: [...children], wait };
  const first = children[0]!.input as unknown as Record<string, unknown>;
  const shared: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(first)) {
    const text = JSON.stringify(value);
    const same = children.every((child) => {
      const other = (child.input as unknown as Record<string, unknown>)[key];
      return other === value || (other !== undefined && JSON.stringify(other) === text);
    });
    if (same) shared[key] = value;
  }
  const each = children.map((child) => {
    const own: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(child.input)) {
      if (!(key in shared)) own[key] = value;
    }
    return own;
  });
  return { shared, each, wait };
}

/** The children a slice starts, in order, whichever shape it came in. */
export function childStartsOf(input: FanOutBatchInput): FanOutChildStart[] {
  if ('children' in input) return input.children;
  return input.each.map((own) => {
    // Rebuilt through the one builder, so the input's keys come in its fixed order and the memo
    // is the one the parent's starter made (compactSlice checked that before leaving it out).
    const start = caseStartOf({ ...input.shared, ...own } as CaseWorkflowInput);
    return { workflowId: start.args[0].caseId, input: start.args[0], memo: start.memo };
  });
}

export async function fanOutBatchWorkflow(input: FanOutBatchInput): Promise<FanOutChildEnd[]> {
  const { taskQueue } = workflowInfo();
  const children = childStartsOf(input);
  // All start commands go out in one workflow task: the units are called at the same moment.
  const handles = await Promise.all(
    children.map((child) =>
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
    return children.map((c) => ({ caseId: c.input.caseId, status: 'open' }));
  }
  return Promise.all(
    handles.map(async (handle, i): Promise<FanOutChildEnd> => {
      const result = await handle.result();
      return {
        caseId: children[i]!.input.caseId,
        status: result.status,
        ...childRollCall(result),
        ...(childDisputes(result) ? { disputes: childDisputes(result)! } : {}),
        ...(childResult(result) ? { handed: childResult(result)! } : {}),
      };
    }),
  );
}
