import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  isCancellation,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  ParentClosePolicy,
} from '@temporalio/workflow';
import type {
  CaseOpening,
  CaseWorkflowInput,
  ClaimTaskRequest,
  ClockRequest,
  CompleteTaskRequest,
  RateCaseRequest,
  ReassignTaskRequest,
  ReturnTaskRequest,
} from '../common/case';
import { CALENDAR_CHANGED_SIGNAL, CASE_UPDATES, CASE_WORKFLOW_TYPE } from '../common/case';
import type { ForEachUnitsSpec, StepSpec } from '../lang/definition';
import { compileExpression, EvaluationError, evaluateValue } from '../lang/expression';
import { maskValue } from '../lang/mask';
import { parseDurationMs, parseSlaDuration } from '../lang/duration';
import type { StepList } from '../lang/steps';
import { allSteps, branchLists, nextStepId, startStepId, topLevel } from '../lang/steps';
import { CASE_STATUS } from '../common/search-attributes';
import { lookups } from './stubs';
import { Clock, runnableDeadline } from './clocks';
import type { CaseStateView } from './projection';
import { CaseProjection, ENGINE } from './projection';
import { applies, CHANGES } from './patches';
import { asList, CaseRun, DefinitionLoopError } from './run';
import type { RollCallFigures } from './roll-call';
import { childRollCall, totalOf } from './roll-call';
import { earnsPoints, runTaskStepEarningPoints } from './points';
import type { TaskView } from './tasks';
import { actorOf, isSupervisor, reject, runTaskStep, taskHandlers, taskValidators } from './tasks';
import { registerEvaluationHandlers, runEvaluation } from './evaluation';

export type { CaseStateView } from './projection';

export const caseStateQuery = defineQuery<CaseStateView>('caseState');
export const claimTaskUpdate = defineUpdate<TaskView, [ClaimTaskRequest]>(CASE_UPDATES.claim);
export const releaseTaskUpdate = defineUpdate<TaskView, [ClaimTaskRequest]>(CASE_UPDATES.release);
export const completeTaskUpdate = defineUpdate<TaskView, [CompleteTaskRequest]>(
  CASE_UPDATES.complete,
);
export const returnTaskUpdate = defineUpdate<TaskView, [ReturnTaskRequest]>(CASE_UPDATES.return);
export const reassignTaskUpdate = defineUpdate<TaskView, [ReassignTaskRequest]>(
  CASE_UPDATES.reassign,
);
export const rateCaseUpdate = defineUpdate<CaseStateView, [RateCaseRequest]>(CASE_UPDATES.rate);
export const pauseClockUpdate = defineUpdate<CaseStateView, [ClockRequest]>(CASE_UPDATES.pause);
export const resumeClockUpdate = defineUpdate<CaseStateView, [ClockRequest]>(CASE_UPDATES.resume);
export const calendarChangedSignal = defineSignal(CALENDAR_CHANGED_SIGNAL);

/** A definition that loops forever is a bug in the definition; stop it instead of spinning. */
const MAX_STEP_VISITS = 10_000;

/**
 * The one interpreter: runs any published definition, step by step, projecting every transition
 * into the case document through an idempotent activity. Human actions arrive as Updates whose
 * validators answer at once; SLA clocks run beside the steps on cancellable timers.
 */
export async function caseWorkflow(
  input: CaseWorkflowInput,
): Promise<CaseStateView & { rollCall?: RollCallFigures }> {
  const projection = new CaseProjection(input.caseId);
  const run = new CaseRun(input, projection);
  projection.trackDeadlines(() => run.clocks.map((c) => c.view()));
  registerHandlers(run);

  projection.record('case.started', input.startedBy, undefined, {
    definition: input.definition.key,
    version: input.definition.version,
    channel: input.channel,
  });
  await projection.flush({ opening: openingOf(input) });

  // Planned before the first step, so the first write already shows the case's deadlines (the
  // first step may write before a plan running beside it would return).
  const caseClocks = run.spec.deadlines.flatMap((deadline) => {
    const runnable = runnableDeadline(deadline, input.receivedAt, run.expressionScope());
    return runnable === null
      ? []
      : [new Clock(`case/${deadline.id}`, runnable, input.receivedAt, undefined, null)];
  });
  await Promise.all(caseClocks.map((clock) => clock.replan(run)));
  const caseClockRuns = caseClocks.map((clock) => run.startClock(clock));
  try {
    const ending = await runList(run, topLevel(run.spec), startStepId(run.spec));
    if (ending === 'exited') {
      throw ApplicationFailure.nonRetryable('The case ran past its last step', 'DefinitionInvalid');
    }
  } catch (err) {
    if (err instanceof DefinitionLoopError) {
      throw ApplicationFailure.nonRetryable(err.message, 'DefinitionLoop');
    }
    throw err;
  }
  for (const clock of run.clocks) clock.stop();
  await Promise.all(caseClockRuns);

  await condition(allHandlersFinished);
  // A case that ran a roll-call hands its figures to the parent that started it.
  return run.rollCall ? { ...projection.view(), rollCall: run.rollCall } : projection.view();
}

/** Runs a list of steps from `startId`: to an end step (top level) or off its end (a branch). */
async function runList(run: CaseRun, list: StepList, startId: string): Promise<'ended' | 'exited'> {
  let stepId: string | undefined = startId;
  while (stepId !== undefined) {
    const step = list.steps.find((s) => s.id === stepId);
    if (!step) {
      throw ApplicationFailure.nonRetryable(
        `Definition has no step "${stepId}"`,
        'DefinitionInvalid',
      );
    }
    const visit = run.visit(step.id, MAX_STEP_VISITS);
    run.projection.enter(step);

    if (step.type === 'end') {
      await closeCase(run, step.id, step.status);
      return 'ended';
    }
    const target = await runStep(run, step, visit);
    run.projection.leave(step, run.takeStepSummary(step.id));
    // The entry rides with the next step's write (every step writes before it waits, and so
    // does the end); cases started before this change write it on its own, as recorded.
    if (!applies(CHANGES.stepCompletedRidesNextWrite)) await run.projection.flush();
    stepId = target ?? nextStepId(list, step);
  }
  return 'exited';
}

async function closeCase(
  run: CaseRun,
  stepId: string,
  status: 'closed' | 'rejected' | 'cancelled' | 'failed',
): Promise<void> {
  run.closed = true;
  for (const task of run.tasks.values()) {
    if (task.isOpen()) {
      task.finish('cancelled');
      run.projection.record('task.cancelled', ENGINE, task.step.id, { task: task.id });
    }
  }
  for (const clock of run.clocks) clock.stop();
  if (run.clocks.length > 0) run.projection.deadlinesChangedNow();
  run.projection.close(status, stepId);
  await run.projection.flush({ closedAt: new Date().toISOString() });
  upsertSearchAttributes([{ key: CASE_STATUS, value: status }]);
}

/** Runs one step; answers the explicit next step, or undefined for the default successor. */
async function runStep(
  run: CaseRun,
  step: Exclude<StepSpec, { type: 'end' }>,
  visit: number,
): Promise<string | undefined> {
  switch (step.type) {
    case 'timer':
      await runTimer(run, step);
      return undefined;
    case 'notify':
      await run.notify({
        recipients: asList(step.to),
        template: step.template,
        keyBase: `${run.caseId}:${step.id}:${visit}`,
        stepId: step.id,
        task: null,
        context: {
          caseId: run.caseId,
          processName: run.spec.name,
          stepName: step.name,
          receivedAt: run.input.receivedAt,
          data: run.input.data,
        },
      });
      return undefined;
    case 'task':
    case 'claim':
      // A step a points rule names awards them when it completes (workflows/points.ts).
      if (earnsPoints(run.spec, step.id)) return runTaskStepEarningPoints(run, step, visit);
      return runTaskStep(run, step, visit);
    case 'decision':
      return decide(run, step);
    case 'parallel':
      return runParallel(run, step);
    case 'feedback':
      await runFeedback(run, step, visit);
      return undefined;
    case 'publish':
      publish(run, step);
      return undefined;
    case 'subprocess':
      await runSubprocess(run, step);
      return undefined;
    case 'evaluation':
      await runEvaluation(run, step, visit, (stepId) => closeCase(run, stepId, 'failed'));
      return undefined;
  }
}

async function runTimer(run: CaseRun, step: Extract<StepSpec, { type: 'timer' }>) {
  await run.projection.flush();
  let waitMs: number;
  if (step.until !== undefined) {
    const value = evaluateValue(step.until, run.expressionScope());
    const at = typeof value === 'string' ? Date.parse(value) : NaN;
    waitMs = Number.isNaN(at) ? 0 : at - Date.now();
  } else if (parseSlaDuration(step.duration!).kind === 'calendar') {
    waitMs = parseDurationMs(step.duration!);
  } else {
    const plan = await lookups.planDeadline({
      policy: { within: step.duration!, reminders: [], escalations: [] },
      startedAt: new Date().toISOString(),
      pauses: [],
    });
    waitMs = Date.parse(plan.dueAt!) - Date.now();
  }
  if (waitMs > 0) await sleep(waitMs);
  run.projection.record('timer.fired', ENGINE, step.id, {
    ...(step.duration !== undefined ? { duration: step.duration } : { until: step.until! }),
  });
}

function decide(run: CaseRun, step: Extract<StepSpec, { type: 'decision' }>): string {
  const scope = run.expressionScope();
  for (const [index, branch] of step.branches.entries()) {
    let value: unknown;
    try {
      value = compileExpression(branch.when).evaluate(scope);
    } catch (err) {
      if (!(err instanceof EvaluationError)) throw err;
      // A condition that cannot be evaluated on this case's data is false, and says so.
      run.projection.record('decision.taken', ENGINE, step.id, {
        branch: index + 1,
        error: err.message.slice(0, 200),
      });
      continue;
    }
    if (value === true) {
      run.projection.record('decision.taken', ENGINE, step.id, {
        branch: index + 1,
        next: branch.next,
      });
      return branch.next;
    }
  }
  run.projection.record('decision.taken', ENGINE, step.id, {
    branch: 'otherwise',
    next: step.otherwise,
  });
  return step.otherwise;
}

async function runParallel(
  run: CaseRun,
  step: Extract<StepSpec, { type: 'parallel' }>,
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

async function runFeedback(
  run: CaseRun,
  step: Extract<StepSpec, { type: 'feedback' }>,
  visit: number,
): Promise<void> {
  run.feedback = { stepId: step.id, rating: null };
  await run.projection.flush();
  if (step.invite !== undefined) {
    // The requester reads the outcome's name (已办结), never its id; 已办理 when no task decided.
    const outcome = outcomeName(run) ?? '已办理';
    await run.notify({
      recipients: asList(step.invite),
      template: step.template,
      keyBase: `${run.caseId}:${step.id}:${visit}:invite`,
      stepId: step.id,
      task: null,
      context: { caseId: run.caseId, processName: run.spec.name, outcome },
    });
  }
  const plan = await lookups.planDeadline({
    policy: { within: step.within, reminders: [], escalations: [] },
    startedAt: new Date().toISOString(),
    pauses: [],
  });
  const feedback = run.feedback;
  const waitMs = Date.parse(plan.dueAt!) - Date.now();
  const rated = waitMs > 0 && (await condition(() => feedback.rating !== null, waitMs));
  if (!rated && feedback.rating === null) {
    // No rating is recorded as none, never as a default score.
    feedback.rating = { score: null, comment: null, at: new Date().toISOString() };
    run.projection.record('feedback.missing', ENGINE, step.id);
    run.projection.rated(feedback.rating);
  }
  run.steps[step.id] = { rating: feedback.rating!.score };
  run.feedback = null;
}

function publish(run: CaseRun, step: Extract<StepSpec, { type: 'publish' }>): void {
  const fields = step.show.flatMap((name) => {
    const spec = run.spec.input.fields.find((f) => f.name === name);
    const value = run.input.data[name];
    if (!spec || value === undefined || value === null) return [];
    return [
      {
        label: spec.label,
        value: (Array.isArray(value) ? value : [value])
          .map((item) => (spec.personal ? maskValue(spec.type, item) : displayValue(item)))
          .join('、'),
      },
    ];
  });
  run.projection.published({
    title: step.title,
    outcome: outcomeName(run),
    fields,
    publishedAt: new Date().toISOString(),
  });
  run.projection.record('case.published', ENGINE, step.id);
}

/** The name of the last task outcome, wherever the task sits (top level or a branch). */
function outcomeName(run: CaseRun): string | null {
  if (run.lastOutcome === null) return null;
  const outcomes = allSteps(run.spec).flatMap(({ step }) =>
    step.type === 'task' ? step.outcomes : [],
  );
  return outcomes.find((o) => o.id === run.lastOutcome)?.name ?? run.lastOutcome;
}

function displayValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The most child cases one `forEach` starts: a runaway list must not flood the cluster. */
const MAX_CHILD_CASES = 200;

async function runSubprocess(run: CaseRun, step: Extract<StepSpec, { type: 'subprocess' }>) {
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
    const childInput: CaseWorkflowInput = {
      caseId: childId,
      definition,
      data,
      startedBy: { kind: 'system', id: 'engine', roles: ['system'] },
      ...(unitId !== undefined ? { unitId } : {}),
      requestHash: `subprocess:${run.caseId}:${step.id}${suffix}`,
      receivedAt: new Date().toISOString(),
      channel: 'subprocess',
      parentCaseId: run.caseId,
    };
    return {
      childId,
      unitId: unitId ?? null,
      options: {
        workflowId: childId,
        args: [childInput] as [CaseWorkflowInput],
        taskQueue: workflowInfo().taskQueue,
        memo: {
          requestHash: childInput.requestHash,
          requestNonce: childId,
          createdBy: { kind: 'system', id: 'engine' },
          unitId: unitId ?? null,
          definitionKey: definition.key,
          definitionVersion: definition.version,
          definitionName: definition.spec.name,
          channel: 'subprocess',
        },
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
    const result = await executeChild<typeof caseWorkflow>(CASE_WORKFLOW_TYPE, child.options);
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
      await startChild<typeof caseWorkflow>(CASE_WORKFLOW_TYPE, {
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

function registerHandlers(run: CaseRun): void {
  const { projection } = run;
  setHandler(caseStateQuery, () => projection.view());
  const task = <R extends { taskId: string }>(
    update: Parameters<typeof setHandler>[0],
    validate: (run: CaseRun, req: R) => void,
    handle: (run: CaseRun, req: R) => Promise<TaskView>,
  ) => {
    setHandler(update as never, ((req: R) => handle(run, req)) as never, {
      validator: ((req: R) => {
        if (run.closed) reject('conflict', 'The case is closed');
        validate(run, req);
      }) as never,
    });
  };
  task(claimTaskUpdate, taskValidators.claim, taskHandlers.claim);
  task(releaseTaskUpdate, taskValidators.release, taskHandlers.release);
  task(completeTaskUpdate, taskValidators.complete, taskHandlers.complete);
  task(returnTaskUpdate, taskValidators.return, taskHandlers.return);
  task(reassignTaskUpdate, taskValidators.reassign, taskHandlers.reassign);
  registerEvaluationHandlers(run);

  setHandler(
    rateCaseUpdate,
    async (req: RateCaseRequest) => {
      const rating = {
        score: req.score,
        comment: req.comment?.trim() || null,
        at: new Date().toISOString(),
      };
      run.feedback!.rating = rating;
      projection.rated(rating);
      projection.record(
        'feedback.rated',
        actorOf(req.actor),
        run.feedback!.stepId,
        { score: req.score },
        req.actor.via,
      );
      await projection.flush();
      return projection.view();
    },
    {
      validator: (req: RateCaseRequest) => {
        if (!run.feedback) reject('conflict', 'The case is not waiting for a rating');
        if (run.feedback.rating !== null) reject('conflict', 'The case has already been rated');
        if (req.actor.id !== run.input.startedBy.id && !isSupervisor(req.actor)) {
          reject('forbidden', 'Only the requester (or a dispatcher on their behalf) may rate');
        }
        if (!Number.isInteger(req.score) || req.score < 1 || req.score > 5) {
          reject('invalid', 'A rating is a whole number from 1 to 5', [
            { path: 'score', message: 'a whole number from 1 to 5' },
          ]);
        }
      },
    },
  );

  const mayHoldClock = (req: ClockRequest) => {
    if (run.closed) reject('conflict', 'The case is closed');
    const assignee = [...run.tasks.values()].some(
      (t) => t.isOpen() && t.assignee?.userId === req.actor.id,
    );
    if (!assignee && !isSupervisor(req.actor)) {
      reject('forbidden', 'Only the assignee or a dispatcher may pause or resume the clock');
    }
  };
  /**
   * Pausing and resuming: the pause list of each clock changes, then every clock replans. The
   * clocks hold from this moment (a pause or resumption wakes their runner), not from when the new
   * plans return: while `planDeadline` is in flight, a timer set by the old plan must not fire.
   */
  const holdClocks = async (req: ClockRequest, pause: boolean) => {
    const now = new Date().toISOString();
    run.pausedSince = pause ? now : null;
    if (pause) {
      for (const clock of run.clocks) {
        if (!clock.stopped && clock.spec.pausable) clock.pause(now);
      }
    } else {
      // Every clock's pause ends, stopped ones too, so none shows as paused forever.
      for (const clock of run.clocks) clock.resume(now);
    }
    const active = run.clocks.filter((c) => !c.stopped && (!pause || c.spec.pausable));
    projection.record(
      pause ? 'clock.paused' : 'clock.resumed',
      actorOf(req.actor),
      undefined,
      { clocks: active.length },
      req.actor.via,
    );
    await Promise.all(active.map((clock) => clock.replan(run)));
    await projection.flush();
    return projection.view();
  };
  setHandler(pauseClockUpdate, (req: ClockRequest) => holdClocks(req, true), {
    validator: (req: ClockRequest) => {
      mayHoldClock(req);
      if (run.pausedSince !== null) reject('conflict', 'The clock is already paused');
    },
  });
  setHandler(resumeClockUpdate, (req: ClockRequest) => holdClocks(req, false), {
    validator: (req: ClockRequest) => {
      mayHoldClock(req);
      if (run.pausedSince === null) reject('conflict', 'The clock is not paused');
    },
  });
  // A calendar year added or revised by an admin: running working-time deadlines move with it.
  setHandler(calendarChangedSignal, async () => {
    const active = run.clocks.filter((c) => !c.stopped);
    await Promise.all(active.map((clock) => clock.replan(run)));
    if (active.length > 0) await projection.flush();
  });
}

function openingOf(input: CaseWorkflowInput): CaseOpening {
  return {
    definitionKey: input.definition.key,
    definitionVersion: input.definition.version,
    definitionName: input.definition.spec.name,
    data: input.data,
    createdBy: { kind: input.startedBy.kind, id: input.startedBy.id },
    ...(input.unitId !== undefined ? { unitId: input.unitId } : {}),
    ...(input.category !== undefined ? { category: input.category } : {}),
    channel: input.channel,
    requestHash: input.requestHash,
    createdAt: input.receivedAt,
    ...(input.parentCaseId !== undefined ? { parentCaseId: input.parentCaseId } : {}),
  };
}
