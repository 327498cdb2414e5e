import { condition, isCancellation } from '@temporalio/workflow';
import { formPrefill } from '../../lang/case-data';
import { evaluateValue } from '../../lang/expression';
import type { ClaimStepSpec, StepSpec, TaskStepSpec } from '../../lang/definition';
import type { ChannelChoice } from '../../lang/vocabulary';
import { lookups, roster, rosterOpening } from '../stubs';
import type { CarriedTask } from '../../common/case';
import type { CarriedClock } from '../clocks';
import { Clock, deadlineAfter, plansAfter, runnableDeadline } from '../clocks';
import { awardPoints, earnsPoints } from '../points';
import type { Detail } from '../projection';
import { ENGINE } from '../projection';
import type { CaseRun } from '../run';
import { figuresOf, isRollCall, unacknowledged } from '../roll-call';
import {
  appliesSince2026_11,
  CHANGES_SINCE_2026_11,
  rosterOpenedInOneActivity,
  rosterRollCalls,
} from '../patches';
import { TaskRuntime } from '../task-runtime';

/**
 * The `task` and `claim` steps (one runner for both): a human task, or a claim pool
 * (`claimants`, a roll-call when `max: all`). The Updates that act on them are in ../tasks.ts.
 */
export function runTask(
  run: CaseRun,
  step: TaskStepSpec | ClaimStepSpec,
  visit: number,
): Promise<string | undefined> {
  // A step a points rule names awards them when it completes (workflows/points.ts).
  if (earnsPoints(run.spec, step.id)) return runTaskStepEarningPoints(run, step, visit);
  return runTaskStep(run, step, visit);
}

/**
 * Runs a task or claim step that a points rule names, then awards the points its completion
 * earns. Steps no rule names run through `runTaskStep` directly, exactly as before, so the
 * commands of cases of definitions without `points` do not change.
 */
export async function runTaskStepEarningPoints(
  run: CaseRun,
  step: TaskStepSpec | ClaimStepSpec,
  visit: number,
): Promise<string | undefined> {
  const target = await runTaskStep(run, step, visit);
  await awardPoints(run, step, visit);
  return target;
}

/**
 * The channels the announcement of a task offered to the requester (`requester: true`, docs
 * 8.1.1) tries when the step names none: the person's own preferences, then SMS, then mail. A
 * resident's account holds no contact; the person record linked to it (`userId`) usually holds a
 * phone and no e-mail, so the default (preferences, then mail) left them unaddressed
 * (`no-address`). Only the activity's input changes, not a command: a replay takes the recorded
 * result, so no marker is needed.
 */
const REQUESTER_CHANNELS: readonly ChannelChoice[] = ['preferred', 'sms', 'mail'];

/** Runs a task or claim step: opens it, starts its clocks, waits until it is done. */
export async function runTaskStep(
  run: CaseRun,
  step: TaskStepSpec | ClaimStepSpec,
  visit: number,
): Promise<string | undefined> {
  const id = `${run.caseId}.${step.id}.${visit}`;
  // Roll-calls opened since the roster keep their people out of the history (see below); since
  // the later change they open in one activity, when nothing in them needs planning first.
  if (isRollCall(step)) {
    if (opensInOneActivity(step) && rosterOpenedInOneActivity()) {
      return runRosterRollCallOpenedAtOnce(run, step, id);
    }
    if (rosterRollCalls()) return runRosterRollCall(run, step, id);
  }
  const resolved = await run.resolvePeople(step.candidates, null);
  const task = new TaskRuntime(
    run,
    id,
    step,
    resolved.people,
    resolved.unitId,
    new Date().toISOString(),
  );
  // The form its fields' defaults prefill (new syntax: computed, no command; recorded histories
  // never have a form default, the validator refused them before).
  if (step.type === 'task' && step.form?.fields.some((f) => f.default !== undefined)) {
    task.prefill = formPrefill(step.form.fields, run.expressionScope());
  }
  // A capacity from the case (new syntax: recorded histories never have it).
  if (step.type === 'claim' && typeof step.claimants.max === 'object') {
    task.capacity = poolCapacity(
      evaluateValue(step.claimants.max.expression, run.expressionScope()),
      step.claimants.min,
    );
  }
  run.tasks.set(id, task);
  run.projection.record('task.opened', ENGINE, step.id, {
    task: id,
    candidates: resolved.people.length,
    ...(task.capacity !== null ? { capacity: task.capacity } : {}),
    ...(resolved.fellBack ? { fellBack: true } : {}),
    ...(resolved.offDuty ? { offDuty: true } : {}),
    ...(resolved.requester === 'reached' ? { requester: true } : {}),
  });
  for (const standIn of resolved.standIns ?? []) {
    // Who stands in for whom (AB岗), by person id only: no names in the history.
    run.projection.record('task.stand-in', ENGINE, step.id, {
      task: id,
      personId: standIn.personId,
      for: standIn.for,
      via: standIn.via,
    });
  }
  if ('arbitration' in step && step.arbitration) {
    run.projection.record('case.arbitrated', ENGINE, step.id, { task: id });
  }
  if (resolved.catalogue) {
    // Where the dispatch catalogue sent the task, at the revision it read (never personal data).
    const routing = resolved.catalogue;
    run.projection.record(
      routing.otherwise ? 'catalogue.unmatched' : 'catalogue.routed',
      ENGINE,
      step.id,
      {
        task: id,
        ...(routing.category !== null ? { category: routing.category } : {}),
        ...(routing.ownerUnitId !== null ? { catalogue: routing.ownerUnitId } : {}),
        ...(routing.revision !== null ? { revision: routing.revision } : {}),
        ...(routing.unitId !== null ? { unitId: routing.unitId } : {}),
      },
    );
  }
  if (resolved.requester !== undefined && resolved.requester !== 'reached') {
    // A requester task without an account to offer it to went to its `otherwise` people (兜底):
    // said why, so nobody waits on a resident who cannot see it. No ids of the requester here.
    run.projection.record('task.requester-unreachable', ENGINE, step.id, {
      task: id,
      reason: resolved.requester,
    });
  }
  if (resolved.people.length === 0) {
    // Nobody holds the post, not even up the 兜底 chain: said on the timeline, so the task is not
    // mistaken for one waiting on its people; a dispatcher in scope reassigns it (转派).
    run.projection.record('task.unstaffed', ENGINE, step.id, { task: id });
  }
  const clockRuns = await startClocks(run, task, step, id);
  let clockEnds: unknown[] = [];
  task.changed();
  await run.projection.flush();
  try {
    if (step.announce) {
      await run.deliver(
        task.candidates.map((c) => ({ slot: c.personId, to: { personId: c.personId } })),
        {
          template: 'task-assigned',
          keyBase: `${id}:assigned`,
          stepId: step.id,
          ...(step.channels !== undefined
            ? { channels: step.channels }
            : resolved.requester === 'reached'
              ? { channels: [...REQUESTER_CHANNELS] }
              : {}),
          context: {
            caseId: run.caseId,
            processName: run.spec.name,
            taskName: step.name,
            deadlines: task.clocks.flatMap((c) =>
              c.plan?.dueAt ? [{ name: c.spec.name, dueAt: c.plan.dueAt }] : [],
            ),
          },
        },
      );
      await run.projection.flush();
    }
    if (step.type === 'claim') await waitForClaims(run, task, step);
    else {
      // While it waits, a branch of a `parallel` may be carried to a next run with its task.
      run.park({ kind: 'task', stepId: step.id, visit, task });
      await condition(() => task.done);
    }
  } catch (err) {
    if (isCancellation(err) && task.isOpen()) {
      // A parallel branch lost the race (join: any): the task is withdrawn, not left open.
      task.finish('cancelled');
      run.projection.record('task.cancelled', ENGINE, step.id, { task: id });
      await run.projection.flush();
    }
    throw err;
  } finally {
    run.unpark(step.id);
    task.stopClocks('complete');
    clockEnds = await Promise.all(clockRuns);
  }
  return taskStepEnd(run, step, task, clockEnds);
}

/**
 * A task step carried across a continue-as-new inside a `parallel` branch
 * (workflows/parallel-continuation.ts): its task goes on under its id, with its people, its claim
 * and its release counts, and its clocks go on from the instants they planned (nothing restarts,
 * nothing fired fires again). It waits for the task as the step did, then ends as the step would.
 */
export async function resumeTask(
  run: CaseRun,
  step: TaskStepSpec,
  visit: number,
  carried: CarriedTask,
): Promise<string | undefined> {
  const target = await resumeTaskStep(run, step, visit, carried);
  if (earnsPoints(run.spec, step.id)) await awardPoints(run, step, visit);
  return target;
}

async function resumeTaskStep(
  run: CaseRun,
  step: TaskStepSpec,
  visit: number,
  carried: CarriedTask,
): Promise<string | undefined> {
  const task = new TaskRuntime(
    run,
    carried.id,
    step,
    carried.candidates,
    carried.unitId,
    carried.openedAt,
  );
  task.status = carried.status;
  task.assignee = carried.assignee;
  task.claimants = carried.claimants;
  task.prefill = carried.prefill;
  for (const [account, count] of Object.entries(carried.releases)) {
    task.releases.set(account, count);
  }
  run.tasks.set(task.id, task);
  run.projection.restoreTaskVersion(task.id, carried.version);
  for (const state of carried.clocks) {
    const clock = Clock.restore(state as CarriedClock, step.id, task);
    task.clocks.push(clock);
    run.clocks.push(clock);
  }
  const clockRuns = task.clocks.map((clock) =>
    clock.run(run).then(
      () => null,
      (err: unknown) => err,
    ),
  );
  let clockEnds: unknown[] = [];
  try {
    run.park({ kind: 'task', stepId: step.id, visit, task });
    await condition(() => task.done);
  } catch (err) {
    if (isCancellation(err) && task.isOpen()) {
      task.finish('cancelled');
      run.projection.record('task.cancelled', ENGINE, step.id, { task: task.id });
      await run.projection.flush();
    }
    throw err;
  } finally {
    run.unpark(step.id);
    task.stopClocks('complete');
    clockEnds = await Promise.all(clockRuns);
  }
  return taskStepEnd(run, step, task, clockEnds);
}

/**
 * A task step's end once its clocks stopped: a clock that failed (not one cancelled with the
 * task) fails the step; otherwise what the step leaves and where it goes next. Synchronous, so the
 * step and its carried resumption settle in the same microtask as before it was shared.
 */
function taskStepEnd(
  run: CaseRun,
  step: TaskStepSpec | ClaimStepSpec,
  task: TaskRuntime,
  clockEnds: readonly unknown[],
): string | undefined {
  const clockFailure = clockEnds.find((end) => end !== null && !isCancellation(end));
  if (clockFailure !== undefined) throw clockFailure as Error;
  return taskStepResult(run, step, task);
}

/** What a finished task or claim step leaves for later steps; answers where it goes next. */
function taskStepResult(
  run: CaseRun,
  step: TaskStepSpec | ClaimStepSpec,
  task: TaskRuntime,
): string | undefined {
  run.steps[step.id] = {
    outcome: task.outcome,
    form: task.form,
    comment: task.comment,
    by: task.assignee?.personId ?? null,
    claimants: task.claimants.map((c) => c.personId),
    status: task.status,
    // The claimants' units, each once (a fan-out per claiming community reads them).
    ...(step.type === 'claim'
      ? { claimantUnits: [...new Set(task.claimants.map((c) => c.unitId))] }
      : {}),
  };
  if (task.rollCall) {
    const figures = figuresOf(task);
    run.steps[step.id] = {
      ...run.steps[step.id],
      ...figures,
      unacknowledged: unacknowledged(task).map((c) => c.personId),
    };
    run.rollCall = figures;
  }
  if (step.type === 'task') {
    run.lastOutcome = task.outcome;
    run.lastForm = task.form;
  }
  return task.target;
}

async function waitForClaims(run: CaseRun, task: TaskRuntime, step: ClaimStepSpec) {
  const full = () => task.done || task.claimants.length >= task.maxClaimants;
  let windowEnded = false;
  if (step.within !== undefined) {
    const plan = await lookups.planDeadline({
      policy: { within: step.within, reminders: [], escalations: [] },
      startedAt: task.openedAt,
      pauses: [],
    });
    const waitMs = Date.parse(plan.dueAt!) - Date.now();
    windowEnded = waitMs <= 0 || !(await condition(full, waitMs));
  } else {
    await condition(full);
  }
  if (task.done) return; // closed early by a supervisor
  const enough = task.claimants.length >= step.claimants.min;
  run.projection.record('claim.closed', ENGINE, step.id, {
    task: task.id,
    claimants: task.claimants.length,
    reason: windowEnded ? 'window-ended' : 'full',
    // A roll-call's figures (counts only: who is missing is in the task, never the timeline).
    ...(task.rollCall
      ? { expected: task.candidates.length, missing: unacknowledged(task).length }
      : {}),
  });
  task.finish(enough ? 'completed' : 'unclaimed', enough ? undefined : step.onUnclaimed);
  await run.projection.flush();
}

/**
 * A roster roll-call (ARCHITECTURE decision 8): one activity resolves the people and writes one
 * roster entry each (activities/roll-calls.ts), returning counts; people acknowledge through the
 * API, which records it on their entry and signals when the count is full; mails to the roster
 * are sent from activities that read it. The history grows with the roll-call's events (its
 * clocks, the close), not with the number of people called or acknowledging.
 */
async function runRosterRollCall(
  run: CaseRun,
  step: ClaimStepSpec,
  id: string,
): Promise<string | undefined> {
  const opened = await rosterOpening.openRollCall({
    taskId: id,
    caseId: run.caseId,
    requests: step.candidates.map((selector) => run.wireRequest(selector, null)),
  });
  const task = new TaskRuntime(run, id, step, [], opened.unitId, new Date().toISOString());
  recordRosterOpened(run, task, step, opened);
  const clockRuns = await startClocks(run, task, step, id);
  task.changed();
  await run.projection.flush();
  return rosterRollCallRuns(run, task, step, clockRuns, { callSent: false, window: null });
}

/**
 * A roster roll-call's task once its roster is written, whichever way it opened: its expected
 * count, the run's task, and its `task.opened` entry (the count, not the people).
 */
function recordRosterOpened(
  run: CaseRun,
  task: TaskRuntime,
  step: ClaimStepSpec,
  opened: { expected: number; fellBack?: boolean },
): void {
  task.roster = { expected: opened.expected };
  run.tasks.set(task.id, task);
  run.projection.record('task.opened', ENGINE, step.id, {
    task: task.id,
    candidates: opened.expected,
    ...(opened.fellBack ? { fellBack: true } : {}),
  });
}

/**
 * The call's mail context (docs: `task-assigned`) without its `deadlines`, which come from the
 * clocks' plans.
 */
function callContext(run: CaseRun, step: ClaimStepSpec): Record<string, unknown> {
  return { caseId: run.caseId, processName: run.spec.name, taskName: step.name };
}

/**
 * Whether a roll-call can open in one activity: none of its deadlines is planned from an `at`
 * instant with `after` (an activity of its own, before the others: deadlineAfter), the one case
 * where planning needs more than the opening's result. Pure: the same answer on replay.
 */
export function opensInOneActivity(
  step: StepSpec | TaskStepSpec | ClaimStepSpec,
): step is ClaimStepSpec {
  return isRollCall(step) && !step.deadlines.some(plansAfter);
}

/**
 * A roster roll-call opened in one activity (ROSTER_OPENED_IN_ONE_ACTIVITY): `openRollCall`
 * resolves the people and writes the roster, plans the clocks and the window (as their own
 * `planDeadline`s would, from the instant the step began), and sends the call to everyone; the
 * workflow then writes the task, its deadlines and the call's entry (and the case's opening, when
 * held: workflows/case-workflow.ts) in one read-model write, and waits. Before, the case ran the
 * opening write, `openRollCall`, a plan, a write, the call, a write and a plan, each a workflow
 * task or more, before the call was even queued (bench:rollcall, docs/roll-calls-at-scale.md).
 */
async function runRosterRollCallOpenedAtOnce(
  run: CaseRun,
  step: ClaimStepSpec,
  id: string,
): Promise<string | undefined> {
  const openedAt = new Date().toISOString();
  // The task's unit is the roll-call's, known once its people are: set from the result below.
  const task = new TaskRuntime(run, id, step, [], null, openedAt);
  for (const deadline of step.deadlines) {
    const startedAt = deadline.from === 'case' ? run.input.receivedAt : openedAt;
    const runnable = runnableDeadline(deadline, startedAt, run.expressionScope());
    if (runnable === null) continue;
    task.clocks.push(new Clock(`${id}/${deadline.id}`, runnable, startedAt, step.id, task));
  }
  // A clock started while the case waits on the requester starts paused and plans again
  // (run.startClock): the call does not name its deadline, as the call sent after that did not.
  const startsPaused = (clock: Clock) => run.pausedSince !== null && clock.spec.pausable;
  const opened = await rosterOpening.openRollCall({
    taskId: id,
    caseId: run.caseId,
    requests: step.candidates.map((selector) => run.wireRequest(selector, null)),
    planning: {
      clocks: task.clocks.map((clock) => clock.planRequest()),
      unitHours: appliesSince2026_11(CHANGES_SINCE_2026_11.unitWorkingHours),
      caseUnitId: run.caseUnitId,
      window: step.within ?? null,
      openedAt,
    },
    ...(step.announce
      ? {
          call: {
            template: 'task-assigned',
            keyBase: `${id}:assigned`,
            context: callContext(run, step),
            deadlineNames: task.clocks.map((clock) =>
              startsPaused(clock) ? null : clock.spec.name,
            ),
            ...(step.channels !== undefined ? { channels: step.channels } : {}),
          },
        }
      : {}),
  });
  task.unitId = opened.unitId;
  recordRosterOpened(run, task, step, opened);
  const plans = opened.plans;
  if (plans !== undefined) {
    task.clocks.forEach((clock, i) => clock.adoptFirstPlan(run, plans[i]!, opened.hoursUnitId!));
  } else {
    // An activity worker older than the request (a rolling deploy) opened the roster only: the
    // clocks plan as they did before, and the window and the call follow below as they did.
    await Promise.all(task.clocks.map((clock) => clock.replan(run)));
  }
  const clockRuns = task.clocks.map((clock) =>
    run.startClock(clock).then(
      () => null,
      (err: unknown) => err,
    ),
  );
  task.changed();
  // The call went out from the opening (its entry rides with this write), or is sent below.
  const call = step.announce ? (opened.call ?? null) : null;
  if (call !== null) run.recordRollCallMail('task-assigned', call, step.id);
  await run.projection.flush();
  return rosterRollCallRuns(run, task, step, clockRuns, {
    callSent: call !== null,
    window: opened.windowDueAt !== undefined ? { dueAt: opened.windowDueAt } : null,
  });
}

/**
 * A roster roll-call once open and written: its call (the step's `announce`, unless the opening
 * sent it), its wait and its close, then what it leaves for later steps. `window`: its end as the
 * opening planned it (null: planned here, by an activity, as before the one-activity opening).
 */
async function rosterRollCallRuns(
  run: CaseRun,
  task: TaskRuntime,
  step: ClaimStepSpec,
  clockRuns: Array<Promise<unknown>>,
  opening: { callSent: boolean; window: { dueAt: string | null } | null },
): Promise<string | undefined> {
  const id = task.id;
  let clockEnds: unknown[] = [];
  try {
    if (step.announce && !opening.callSent) {
      await run.mailRollCall(
        {
          taskId: id,
          template: 'task-assigned',
          keyBase: `${id}:assigned`,
          context: {
            ...callContext(run, step),
            deadlines: task.clocks.flatMap((c) =>
              c.plan?.dueAt ? [{ name: c.spec.name, dueAt: c.plan.dueAt }] : [],
            ),
          },
          roster: 'all',
          targets: [],
          ...(step.channels !== undefined ? { channels: step.channels } : {}),
          figures: false,
          missingNames: false,
        },
        step.id,
      );
      await run.projection.flush();
    }
    await waitForRoster(run, task, step, opening.window);
  } catch (err) {
    if (isCancellation(err) && task.isOpen()) {
      task.finish('cancelled');
      run.projection.record('task.cancelled', ENGINE, step.id, { task: id });
      await run.projection.flush();
    }
    throw err;
  } finally {
    task.stopClocks('complete');
    clockEnds = await Promise.all(clockRuns);
  }
  const clockFailure = clockEnds.find((end) => end !== null && !isCancellation(end));
  if (clockFailure !== undefined) throw clockFailure as Error;
  // Set as it opened, and again with all three figures as it closed.
  const roster = task.roster!;
  const figures = {
    expected: roster.expected,
    acknowledged: roster.acknowledged ?? 0,
    missing: roster.missing ?? roster.expected,
    // A roll-call with nobody to call is not "everyone present": a parent's summary says so.
    ...(roster.expected === 0 ? { unstaffed: 1 } : {}),
  };
  // Counts only: who reported and who did not are in the roster, not in the case's state.
  run.steps[step.id] = {
    outcome: task.outcome,
    form: task.form,
    comment: task.comment,
    by: null,
    claimants: [],
    status: task.status,
    ...figures,
  };
  run.rollCall = figures;
  return task.target;
}

/**
 * Waits until a roster roll-call is full (the service's signal, checked against the roster), its
 * window ends, or a dispatcher closes it; then closes it (the unacknowledged are missing).
 */
async function waitForRoster(
  run: CaseRun,
  task: TaskRuntime,
  step: ClaimStepSpec,
  window: { dueAt: string | null } | null,
) {
  const woken = () => task.done || task.closing || run.rosterMaybeFull.has(task.id);
  let dueMs: number | null = null;
  if (window !== null) {
    // Planned by the roll-call's opening.
    dueMs = window.dueAt !== null ? Date.parse(window.dueAt) : null;
  } else if (step.within !== undefined) {
    const plan = await lookups.planDeadline({
      policy: { within: step.within, reminders: [], escalations: [] },
      startedAt: task.openedAt,
      pauses: [],
    });
    dueMs = Date.parse(plan.dueAt!);
  }
  let windowEnded = false;
  if (dueMs !== null) task.rosterWindowEndsAt = new Date(dueMs).toISOString();
  while (task.roster!.expected > 0) {
    if (dueMs === null) {
      await condition(woken);
    } else {
      const waitMs = dueMs - Date.now();
      if (waitMs <= 0 || !(await condition(woken, waitMs))) {
        windowEnded = true;
        break;
      }
    }
    if (task.done || task.closing) break;
    run.rosterMaybeFull.delete(task.id);
    const figures = await roster.rollCallFigures(task.id);
    if (figures.acknowledged >= figures.expected) break;
  }
  await closeRoster(run, task, windowEnded ? 'window-ended' : 'full');
}

/**
 * Closes a roster roll-call once, whoever asks first (its wait, or a dispatcher's close): the
 * roster's unacknowledged entries are closed as missing and the figures recorded.
 */
export async function closeRoster(
  run: CaseRun,
  task: TaskRuntime,
  reason: 'full' | 'window-ended' | 'closed-by-dispatcher',
  record: (detail: Detail) => void = (detail) =>
    run.projection.record('claim.closed', ENGINE, task.step.id, detail),
): Promise<void> {
  if (task.closing || task.done) {
    await condition(() => task.done);
    return;
  }
  task.closing = true;
  const at = new Date().toISOString();
  const figures = await roster.closeRollCall({ taskId: task.id, at });
  task.roster = figures;
  if (figures.missing > 0) {
    // Levels that came due while it was open still fire when its clocks stop, however late the
    // case runs (the window's end, or the close when earlier: a dispatcher's).
    const windowEnd = task.rosterWindowEndsAt;
    task.owesLevelsDueBy = windowEnd !== null && windowEnd < at ? windowEnd : at;
  }
  const step = task.step as ClaimStepSpec;
  // Nobody to call is never enough, whatever `min` says: the roll-call goes to `onUnclaimed`.
  const enough = figures.expected > 0 && figures.acknowledged >= step.claimants.min;
  // Counts only, as before: who is missing is in the roster, never the timeline.
  record({
    task: task.id,
    claimants: figures.acknowledged,
    // A compound with no post holders: said as such, not as a roll-call everyone answered.
    reason: figures.expected === 0 ? 'nobody-to-call' : reason,
    expected: figures.expected,
    missing: figures.missing,
  });
  task.finish(enough ? 'completed' : 'unclaimed', enough ? undefined : step.onUnclaimed);
  await run.projection.flush();
}

/**
 * Plans and starts a task's SLA clocks (its step's deadlines). Plans first, so the announcement
 * can name the deadlines. Each run is observed at once: in a branch that lost a race (join: any)
 * the clocks are cancelled with it, and a rejection left unobserved until a later activation
 * would fail the workflow task. Resolves each run to null, or to the error it ended with.
 */
async function startClocks(
  run: CaseRun,
  task: TaskRuntime,
  step: TaskStepSpec | ClaimStepSpec,
  id: string,
): Promise<Array<Promise<unknown>>> {
  for (const deadline of step.deadlines) {
    // `from: case` counts from the case's receipt (new syntax: histories recorded before it never
    // carry it, so they replay unchanged).
    const startedAt = deadline.from === 'case' ? run.input.receivedAt : task.openedAt;
    const runnable = plansAfter(deadline)
      ? await deadlineAfter(
          deadline,
          startedAt,
          run.expressionScope(),
          task.unitId ?? run.caseUnitId,
        )
      : runnableDeadline(deadline, startedAt, run.expressionScope());
    if (runnable === null) continue;
    task.clocks.push(new Clock(`${id}/${deadline.id}`, runnable, startedAt, step.id, task));
  }
  await Promise.all(task.clocks.map((clock) => clock.replan(run)));
  return task.clocks.map((clock) =>
    run.startClock(clock).then(
      () => null,
      (err: unknown) => err,
    ),
  );
}

/** The most claimants a pool takes (chosen, as a written `max`): 1,000. */
const MAX_POOL_CAPACITY = 1_000;

/**
 * A pool's capacity from the value its expression gave: a whole number, at least the pool's `min`
 * and at most 1,000; anything else (null, text, a fraction) gives `min`, so a pool never opens with
 * room for nobody.
 */
export function poolCapacity(value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) return min;
  return Math.min(MAX_POOL_CAPACITY, Math.max(min, value));
}
