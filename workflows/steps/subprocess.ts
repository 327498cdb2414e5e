import {
  ApplicationFailure,
  executeChild,
  ParentClosePolicy,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { CaseWorkflowInput } from '../../common/case';
import { CASE_WORKFLOW_TYPE } from '../../common/case';
import { caseStartOf } from '../../common/case-start';
import type { ForEachUnitsSpec, StepSpec } from '../../lang/definition';
import { evaluateValue } from '../../lang/expression';
import { ENGINE } from '../projection';
import type { RollCallFigures } from '../roll-call';
import { childRollCall, totalOf } from '../roll-call';
import type { CaseRun, CaseWorkflowResult } from '../run';
import { lookups } from '../stubs';
import { closeCase } from './end';

/** The child's signature (`caseWorkflow`), spelled out so this step need not import the loop. */
type CaseWorkflowFunction = (input: CaseWorkflowInput) => Promise<CaseWorkflowResult>;

/** The most child cases one `forEach` starts: a runaway list must not flood the cluster. */
const MAX_CHILD_CASES = 200;

/**
 * The `subprocess` step: starts one child case, or one per item or unit of a `forEach` fan-out,
 * and (with `wait`) waits for them; a child's roll-call figures are summed up for the parent.
 */
export async function runSubprocess(run: CaseRun, step: Extract<StepSpec, { type: 'subprocess' }>) {
  const definition = await lookups.loadDefinition(step.definition);
  const base = run.expressionScope();
  let items: Array<{ item: unknown; index: number } | null>;
  if (step.forEach === undefined) items = [null];
  else if (typeof step.forEach === 'string') {
    items = forEachItems(evaluateValue(step.forEach, base));
  } else {
    const units = await unitsToFanOut(run, step, step.forEach);
    items = units.map((item, index) => ({ item, index }));
  }
  const fansOutOverUnits = typeof step.forEach === 'object';
  const children = items.map((entry) => {
    const scope = entry === null ? base : { ...base, ...entry };
    const data: Record<string, unknown> = {};
    for (const [field, source] of Object.entries(step.data)) {
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
    const start = caseStartOf({
      caseId: childId,
      definition,
      data,
      startedBy: { kind: 'system', id: 'engine', roles: ['system'] },
      ...(unitId !== undefined ? { unitId } : {}),
      requestHash: `subprocess:${run.caseId}:${step.id}${suffix}`,
      receivedAt: new Date().toISOString(),
      channel: 'subprocess',
      parentCaseId: run.caseId,
    });
    return {
      childId,
      unitId: unitId ?? null,
      options: {
        workflowId: childId,
        args: start.args,
        taskQueue: workflowInfo().taskQueue,
        // No search attributes: sub-process starts never sent any, and recorded histories pin it.
        memo: start.memo,
      },
    };
  });
  for (const child of children) {
    run.projection.record('subprocess.started', ENGINE, step.id, {
      caseId: child.childId,
      definition: definition.key,
      ...(step.forEach !== undefined && child.unitId !== null ? { unitId: child.unitId } : {}),
    });
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
    run.steps[step.id] = { caseId: child.childId, status: result.status, ...figures };
    run.projection.record('subprocess.ended', ENGINE, step.id, {
      caseId: child.childId,
      status: result.status,
      ...figures,
    });
    if (figures) run.summarizeStep(step.id, { ...figures });
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
  const cases: Array<
    {
      caseId: string;
      unitId: string | null;
      status: string;
    } & Partial<RollCallFigures>
  > = children.map((c) => ({
    caseId: c.childId,
    unitId: c.unitId,
    status: 'open',
  }));
  const figures: Array<RollCallFigures | null> = children.map(() => null);
  const summary = () => ({
    cases,
    count: cases.length,
    closed: cases.filter((c) => c.status === 'closed').length,
    status: cases.find((c) => c.status !== 'closed')?.status ?? 'closed',
    // Roll-calls of the children (emergency activation): the totals beside each child's own.
    ...totalOf(figures),
  });
  if (!step.wait) {
    run.steps[step.id] = summary();
    return;
  }
  await Promise.all(
    handles.map(async (handle, i) => {
      const result = await handle.result();
      cases[i]!.status = result.status;
      const rollCall = childRollCall(result);
      figures[i] = rollCall;
      if (rollCall) Object.assign(cases[i]!, rollCall);
      run.projection.record('subprocess.ended', ENGINE, step.id, {
        caseId: cases[i]!.caseId,
        status: result.status,
        ...(rollCall && cases[i]!.unitId !== null ? { unitId: cases[i]!.unitId } : {}),
        ...rollCall,
      });
    }),
  );
  run.steps[step.id] = summary();
  const total = totalOf(figures);
  if (total) run.summarizeStep(step.id, { count: cases.length, ...total });
}

/**
 * The units a `forEach: { units }` fans out over, found in the org tree by an activity. More than
 * {@link MAX_CHILD_CASES} is refused, not cut short: a round that silently skipped some grids
 * would look complete. The case fails (status `failed`, `subprocess.refused` on the timeline
 * with the count), so an administrator starts the round per street instead.
 */
async function unitsToFanOut(
  run: CaseRun,
  step: Extract<StepSpec, { type: 'subprocess' }>,
  forEach: ForEachUnitsSpec,
): Promise<string[]> {
  const found = await lookups.findUnits({
    type: forEach.units.type,
    within: run.wireUnitRef(forEach.units.within),
    caseUnitId: run.caseUnitId,
    data: run.input.data,
    limit: MAX_CHILD_CASES,
  });
  if (found.count <= MAX_CHILD_CASES) return found.unitIds;
  run.projection.record('subprocess.refused', ENGINE, step.id, {
    definition: step.definition,
    units: found.count,
    limit: MAX_CHILD_CASES,
  });
  await closeCase(run, step.id, 'failed');
  throw ApplicationFailure.nonRetryable(
    `Step "${step.id}" found ${found.count} units of type ${forEach.units.type}; one step starts at most ${MAX_CHILD_CASES} child cases: start the round for a smaller unit (each street)`,
    'FanOutTooLarge',
  );
}

/** The values a `forEach` fans out over: a list (null and empty strings dropped) or one value. */
function forEachItems(value: unknown): Array<{ item: unknown; index: number }> {
  const values: unknown[] = Array.isArray(value) ? (value as unknown[]) : [value];
  const list = values.filter((v) => v !== null && v !== undefined && v !== '');
  return list.slice(0, MAX_CHILD_CASES).map((item, index) => ({ item, index }));
}
