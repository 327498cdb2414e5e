import {
  ApplicationFailure,
  executeChild,
  ParentClosePolicy,
  patched,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { CaseWorkflowInput } from '../../common/case';
import { CASE_WORKFLOW_TYPE } from '../../common/case';
import { caseStartOf } from '../../common/case-start';
import type { ForEachUnitsSpec, StepSpec } from '../../lang/definition';
import { evaluateValue } from '../../lang/expression';
import { withInputDefaults } from '../../lang/case-data';
import type { FanOutBatchInput, FanOutChildEnd } from '../fan-out-batch';
import { compactSlice, FAN_OUT_BATCH_TYPE, fanOutSlices } from '../fan-out-batch';
import { compactsFanOutSlices, FAN_OUT_IN_PARALLEL } from '../patches';
import { ENGINE } from '../projection';
import type { RollCallFigures } from '../roll-call';
import { childRollCall, totalOf } from '../roll-call';
import type { DisputeFigures } from '../disputes';
import { childDisputes, disputeTotalOf } from '../disputes';
import type { ChildResult } from '../child-results';
import {
  childResult,
  endedDetail,
  MAX_CHILDREN_WITH_DATA,
  resultTotals,
  totalsDetail,
} from '../child-results';
import type { CaseRun, CaseWorkflowResult } from '../run';
import { lookups } from '../stubs';
import { closeCase } from './end';

/** The child's signature (`caseWorkflow`), spelled out so this step need not import the loop. */
type CaseWorkflowFunction = (input: CaseWorkflowInput) => Promise<CaseWorkflowResult>;

/**
 * The most child cases one `forEach` started before fan-outs ran in parallel slices (cases
 * recorded then keep it: it is part of their `findUnits` request).
 */
const MAX_CHILD_CASES_SERIAL = 200;

/**
 * The most child cases one `forEach` starts (chosen: five times Hanzhong's 4,400 grids, so a
 * city's activation fits, while a runaway list still cannot flood the cluster).
 */
const MAX_CHILD_CASES = 20_000;

/**
 * Children per slice (chosen). Up to this many, the step starts its children itself, all in one
 * workflow task; beyond it, each slice goes to a fan-out batch workflow (../fan-out-batch.ts), so
 * no history holds more than a slice's start commands (each carries the child's definition) and
 * pending children stay far below the server's limit of 2,000 per execution. The parent hands each
 * batch a compact slice (the definition once), so its own history grows by about 200 bytes a child.
 */
const FAN_OUT_SLICE = 250;

/** Timeline entries per projection write while a large fan-out records its starts (chosen). */
const ENTRIES_PER_WRITE = 500;

type SubprocessStep = Extract<StepSpec, { type: 'subprocess' }>;

/**
 * The `subprocess` step: starts one child case, or one per item or unit of a `forEach` fan-out,
 * and (with `wait`) waits for them; a child's roll-call figures are summed up for the parent.
 */
export async function runSubprocess(run: CaseRun, step: SubprocessStep) {
  const pinned = run.pinnedVersions?.[step.definition];
  const definition =
    pinned === undefined
      ? await lookups.loadDefinition(step.definition)
      : await lookups.loadDefinition(step.definition, pinned);
  const base = run.expressionScope();
  // Fan-outs started one child after the other, at most 200, before this change.
  const inParallel = step.forEach !== undefined && patched(FAN_OUT_IN_PARALLEL);
  const limit = inParallel ? MAX_CHILD_CASES : MAX_CHILD_CASES_SERIAL;
  let items: Array<{ item: unknown; index: number } | null>;
  if (step.forEach === undefined) items = [null];
  else if (typeof step.forEach === 'string') {
    const values = forEachValues(evaluateValue(step.forEach, base));
    if (inParallel && values.length > limit) await refuse(run, step, values.length, 'items');
    items = values.slice(0, limit).map((item, index) => ({ item, index }));
  } else {
    const units = await unitsToFanOut(run, step, step.forEach, limit);
    items = units.map((item, index) => ({ item, index }));
  }
  const fansOutOverUnits = typeof step.forEach === 'object';
  const children = items.map((entry) => {
    const scope = entry === null ? base : { ...base, ...entry };
    const data: Record<string, unknown> = {};
    for (const [field, source] of Object.entries(step.data ?? {})) {
      data[field] = evaluateValue(source, scope);
    }
    const unit =
      step.unit !== undefined
        ? evaluateValue(step.unit, scope)
        : fansOutOverUnits
          ? entry?.item
          : run.input.unitId;
    const unitId = typeof unit === 'string' && unit !== '' ? unit : undefined;
    const childId = `case-${uuid4().replace(/-/g, '').slice(0, 24)}`;
    const suffix = entry === null ? '' : `:${entry.index}`;
    const receivedAt = new Date().toISOString();
    const start = caseStartOf({
      caseId: childId,
      definition,
      // The child's input defaults fill what the step's data leaves out (as at any start); a
      // child process without defaults gets the step's data as it always did.
      data: withInputDefaults(definition.spec.input.fields, data, {
        id: childId,
        unitId: unitId ?? null,
        channel: 'subprocess',
        definition: definition.key,
        receivedAt,
      }),
      startedBy: { kind: 'system', id: 'engine', roles: ['system'] },
      ...(unitId !== undefined ? { unitId } : {}),
      requestHash: `subprocess:${run.caseId}:${step.id}${suffix}`,
      receivedAt,
      channel: 'subprocess',
      parentCaseId: run.caseId,
    });
    return {
      childId,
      unitId: unitId ?? null,
      start,
      options: {
        workflowId: childId,
        args: start.args,
        taskQueue: workflowInfo().taskQueue,
        // No search attributes: sub-process starts never sent any, and recorded histories pin it.
        memo: start.memo,
      },
    };
  });
  for (const [i, child] of children.entries()) {
    run.projection.record('subprocess.started', ENGINE, step.id, {
      caseId: child.childId,
      definition: definition.key,
      ...(step.forEach !== undefined && child.unitId !== null ? { unitId: child.unitId } : {}),
    });
    // Thousands of entries in one write would pass the payload limit of one activity input.
    if (inParallel && (i + 1) % ENTRIES_PER_WRITE === 0) await run.projection.flush();
  }
  await run.projection.flush();
  if (step.forEach === undefined) {
    const child = children[0]!;
    if (!step.wait) {
      await startChild(CASE_WORKFLOW_TYPE, {
        ...child.options,
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
      run.steps[step.id] = { caseId: child.childId, status: 'open' };
      return;
    }
    const result = await executeChild<CaseWorkflowFunction>(CASE_WORKFLOW_TYPE, child.options);
    const figures = childRollCall(result);
    const disputes = childDisputes(result);
    const handed = childResult(result);
    run.steps[step.id] = {
      caseId: child.childId,
      status: result.status,
      ...figures,
      ...disputes,
      ...handed,
    };
    run.projection.record('subprocess.ended', ENGINE, step.id, {
      caseId: child.childId,
      status: result.status,
      ...figures,
      ...disputes,
      ...endedDetail(handed),
    });
    if (figures || disputes) run.summarizeStep(step.id, { ...figures, ...disputes });
    return;
  }
  if (inParallel) {
    await fanOutInParallel(run, step, children);
    return;
  }
  // All children start before any is awaited: the departments are called at the same moment.
  const handles = [];
  for (const child of children) {
    handles.push(
      await startChild<CaseWorkflowFunction>(CASE_WORKFLOW_TYPE, {
        ...child.options,
        ...(step.wait ? {} : { parentClosePolicy: ParentClosePolicy.ABANDON }),
      }),
    );
  }
  const tally = new FanOutTally(run, step, children);
  if (!step.wait) {
    tally.settle();
    return;
  }
  await Promise.all(
    handles.map(async (handle, i) => {
      const result = await handle.result();
      tally.ended(
        i,
        result.status,
        childRollCall(result),
        childDisputes(result),
        childResult(result),
      );
    }),
  );
  tally.settle();
}

/**
 * The units a `forEach: { units }` fans out over, found in the org tree by an activity. More than
 * {@link MAX_CHILD_CASES} is refused, not cut short: a round that silently skipped some grids
 * would look complete. The case fails (status `failed`, `subprocess.refused` on the timeline
 * with the count), so an administrator starts the round per street instead.
 */
async function unitsToFanOut(
  run: CaseRun,
  step: SubprocessStep,
  forEach: ForEachUnitsSpec,
  limit: number,
): Promise<string[]> {
  const found = await lookups.findUnits({
    type: forEach.units.type,
    within: run.wireUnitRef(forEach.units.within),
    caseUnitId: run.caseUnitId,
    data: run.input.data,
    limit,
  });
  if (found.count <= limit) return found.unitIds;
  return refuse(run, step, found.count, `units of type ${forEach.units.type}`, limit);
}

/** Refuses a fan-out over more than `limit` children: the case fails, saying how many. */
async function refuse(
  run: CaseRun,
  step: SubprocessStep,
  count: number,
  what: string,
  limit = MAX_CHILD_CASES,
): Promise<never> {
  run.projection.record('subprocess.refused', ENGINE, step.id, {
    definition: step.definition,
    units: count,
    limit,
  });
  await closeCase(run, step.id, 'failed');
  throw ApplicationFailure.nonRetryable(
    `Step "${step.id}" found ${count} ${what}; one step starts at most ${limit} child cases: start the round for a smaller unit (each street)`,
    'FanOutTooLarge',
  );
}

/** The values a `forEach` fans out over: a list (null and empty strings dropped) or one value. */
function forEachValues(value: unknown): unknown[] {
  const values: unknown[] = Array.isArray(value) ? (value as unknown[]) : [value];
  return values.filter((v) => v !== null && v !== undefined && v !== '');
}

interface PlannedChild {
  childId: string;
  unitId: string | null;
  start: ReturnType<typeof caseStartOf>;
}

/**
 * Starts a fan-out's children in parallel: all in one workflow task when they fit one slice,
 * otherwise slice by slice through fan-out batch workflows, every slice at once. With `wait`, it
 * then records how each child ended and the roll-call totals, as the serial fan-out did.
 */
async function fanOutInParallel(
  run: CaseRun,
  step: SubprocessStep,
  children: readonly PlannedChild[],
): Promise<void> {
  const taskQueue = workflowInfo().taskQueue;
  let ends: Promise<FanOutChildEnd[]>;
  if (children.length <= FAN_OUT_SLICE) {
    const handles = await Promise.all(
      children.map((child) =>
        startChild<CaseWorkflowFunction>(CASE_WORKFLOW_TYPE, {
          workflowId: child.childId,
          args: child.start.args,
          taskQueue,
          memo: child.start.memo,
          ...(step.wait ? {} : { parentClosePolicy: ParentClosePolicy.ABANDON }),
        }),
      ),
    );
    ends = step.wait
      ? Promise.all(
          handles.map(async (handle, i) => {
            const result = await handle.result();
            const disputes = childDisputes(result);
            const handed = childResult(result);
            return {
              caseId: children[i]!.childId,
              status: result.status,
              ...childRollCall(result),
              ...(disputes ? { disputes } : {}),
              ...(handed ? { handed } : {}),
            };
          }),
        )
      : Promise.resolve([]);
  } else {
    const slices = fanOutSlices(
      children.map((child) => ({ workflowId: child.childId, start: child.start })),
      FAN_OUT_SLICE,
    );
    const compact = compactsFanOutSlices();
    const results = await Promise.all(
      slices.map((slice) =>
        executeChild<(input: FanOutBatchInput) => Promise<FanOutChildEnd[]>>(FAN_OUT_BATCH_TYPE, {
          workflowId: `fanout-${uuid4().replace(/-/g, '').slice(0, 24)}`,
          args: [compact ? compactSlice(slice, step.wait) : { children: slice, wait: step.wait }],
          taskQueue,
        }),
      ),
    );
    ends = Promise.resolve(step.wait ? results.flat() : []);
  }
  const tally = new FanOutTally(run, step, children);
  if (!step.wait) {
    tally.settle();
    return;
  }
  for (const [i, end] of (await ends).entries()) {
    tally.ended(
      i,
      end.status,
      childRollCall({ rollCall: end }),
      childDisputes(end),
      end.handed ?? null,
    );
    if ((i + 1) % ENTRIES_PER_WRITE === 0) await run.projection.flush();
  }
  tally.settle();
}

/**
 * A fan-out's children as they end: each child's status and roll-call figures, its
 * `subprocess.ended` entry, and at the end `steps.<id>` (every child, the counts, the roll-call
 * totals) and the step's summary. The serial and the parallel fan-out keep their tally alike.
 */
class FanOutTally {
  private readonly cases: Array<
    { caseId: string; unitId: string | null; status: string } & Partial<RollCallFigures> &
      Partial<DisputeFigures> &
      Partial<ChildResult>
  >;
  private readonly figures: Array<RollCallFigures | null>;
  private readonly disputes: Array<DisputeFigures | null>;
  private readonly handed: Array<ChildResult | null>;

  constructor(
    private readonly run: CaseRun,
    private readonly step: SubprocessStep,
    children: ReadonlyArray<{ childId: string; unitId: string | null }>,
  ) {
    this.cases = children.map((c) => ({ caseId: c.childId, unitId: c.unitId, status: 'open' }));
    this.figures = children.map(() => null);
    this.disputes = children.map(() => null);
    this.handed = children.map(() => null);
  }

  /**
   * Child `i` ended with `status` (and, when it ran a roll-call or counted disputes, its figures;
   * its outcome and result values when it handed them). A fan-out of more than
   * MAX_CHILDREN_WITH_DATA children keeps each child's outcome but not its values: the counts and
   * sums stand for them.
   */
  ended(
    i: number,
    status: string,
    rollCall: RollCallFigures | null,
    disputes: DisputeFigures | null = null,
    handed: ChildResult | null = null,
  ): void {
    const child = this.cases[i]!;
    child.status = status;
    this.figures[i] = rollCall;
    this.disputes[i] = disputes;
    this.handed[i] = handed;
    if (rollCall) Object.assign(child, rollCall);
    if (disputes) Object.assign(child, disputes);
    const kept =
      handed === null
        ? null
        : this.cases.length <= MAX_CHILDREN_WITH_DATA
          ? handed
          : { outcome: handed.outcome };
    if (kept) Object.assign(child, kept);
    this.run.projection.record('subprocess.ended', ENGINE, this.step.id, {
      caseId: child.caseId,
      status,
      ...((rollCall || disputes || handed?.data) && child.unitId !== null
        ? { unitId: child.unitId }
        : {}),
      ...rollCall,
      ...disputes,
      ...endedDetail(kept),
    });
  }

  /**
   * Leaves `steps.<id>` for later conditions; for a waited-for fan-out, also the step's summary
   * (the children's roll-call totals, when they ran one).
   */
  settle(): void {
    const { cases, figures } = this;
    const disputes = disputeTotalOf(this.disputes);
    const handed = resultTotals(this.handed);
    const result = {
      cases,
      count: cases.length,
      closed: cases.filter((c) => c.status === 'closed').length,
      status: cases.find((c) => c.status !== 'closed')?.status ?? 'closed',
      // Roll-calls of the children (emergency activation): the totals beside each child's own.
      ...totalOf(figures),
      // Dispute reports of the children (月排查): the round's totals and 化解率.
      ...disputes,
      // How many children ended with each outcome, and the sums of their result values.
      ...handed,
    };
    this.run.steps[this.step.id] = result;
    if (!this.step.wait) return;
    const total = totalOf(figures);
    // The counts and sums join the summary when the children's process declares values to hand.
    const handedSums = handed?.totals !== undefined ? handed : null;
    if (total || disputes || handedSums) {
      this.run.summarizeStep(this.step.id, {
        count: cases.length,
        ...(disputes || handedSums ? { closed: result.closed } : {}),
        ...total,
        ...disputes,
        ...(handedSums ? totalsDetail(handedSums) : {}),
      });
    }
  }
}
