import type {
  ActingPrincipal,
  Candidate,
  CheckInRecord,
  ClaimTaskRequest,
  CompleteTaskRequest,
  ReassignTaskRequest,
  ReturnTaskRequest,
  TaskSnapshot,
  TimelineEventType,
} from '../common/case';
import { vetoesOf } from '../lang/assessment';
import { checkInRuleOf } from '../lang/check-in';
import { validateCaseData } from '../lang/case-data';
import type { TaskStepSpec } from '../lang/definition';
import { checkMoveInRun, checkReleases, checkShuffleBudget } from './action-budget';
import { appliesSince2026_11, CHANGES_SINCE_2026_11 } from './patches';
import { actorOf, isSupervisor, reject } from './callers';
import type { Detail } from './projection';
import type { CaseRun } from './run';
import type { TaskRuntime } from './task-runtime';
import { closeRoster } from './steps/task';

/**
 * The Updates on human tasks and claim pools (claim, release, complete, return, reassign): the
 * validators that answer the caller at once, and the handlers that act once a validator has
 * accepted. workflows/handlers.ts registers them; the step runner is workflows/steps/task.ts.
 */

function openTask(run: CaseRun, taskId: string): TaskRuntime {
  const task = run.tasks.get(taskId);
  if (!task) return reject('notFound', `This case has no task "${taskId}"`);
  if (!task.isOpen()) return reject('conflict', `The task is already ${task.status}`);
  return task;
}

function candidateOf(task: TaskRuntime, actor: ActingPrincipal): Candidate {
  const candidate = task.candidates.find((c) => c.userId === actor.id);
  if (!candidate) return reject('forbidden', 'You are not among the candidates of this task');
  return candidate;
}

/** A supervision slip is answered by one of its people; it is not claimed or handed on. */
function notASlip(task: TaskRuntime): void {
  if (task.supervision) {
    reject(
      'conflict',
      'A supervision slip is answered by one of its people, not claimed or handed on',
    );
  }
}

function assigneeCheck(task: TaskRuntime, actor: ActingPrincipal): void {
  if (!task.assignee) reject('conflict', 'The task is not claimed; claim it first');
  if (task.assignee.userId !== actor.id) {
    reject('conflict', 'The task is claimed by someone else');
  }
}

/** Validators: they run before anything is recorded and answer the caller at once. */
export const taskValidators = {
  claim: (run: CaseRun, req: ClaimTaskRequest): void => {
    const task = openTask(run, req.taskId);
    notASlip(task);
    if (task.kind === 'task') {
      if (task.assignee?.userId === req.actor.id) return;
      if (task.assignee) reject('conflict', 'The task is already claimed by someone else');
      checkReleases(task.releases, req.actor);
      checkShuffleBudget(run);
    } else {
      // A roster roll-call is acknowledged on its roster (services/tasks.ts), not by an Update.
      if (task.roster) reject('conflict', 'A roll-call is acknowledged through the API, not here');
      if (task.claimants.some((c) => c.userId === req.actor.id)) return;
      if (task.claimants.length >= task.maxClaimants) {
        reject('conflict', `The pool already has its ${task.maxClaimants} claimant(s)`);
      }
    }
    candidateOf(task, req.actor);
  },

  release: (run: CaseRun, req: ClaimTaskRequest): void => {
    const task = openTask(run, req.taskId);
    notASlip(task);
    if (task.kind !== 'task') reject('conflict', 'A claim in a pool cannot be released');
    assigneeCheck(task, req.actor);
    checkMoveInRun(run);
  },

  complete: (run: CaseRun, req: CompleteTaskRequest): void => {
    const task = openTask(run, req.taskId);
    if (task.step.type === 'claim') {
      if (!isSupervisor(req.actor)) reject('forbidden', 'Only a dispatcher may close a pool');
      if (task.closing) reject('conflict', 'The roll-call is closing');
      if (req.checkIn !== undefined) {
        reject('invalid', 'Closing a pool takes no check-in', [
          { path: 'checkIn', message: 'a report-in carries the check-in, not the close' },
        ]);
      }
      // A roster roll-call's count is in the roster: too few makes it unclaimed when it closes.
      if (!task.roster && task.claimants.length < task.step.claimants.min) {
        reject('conflict', `The pool needs at least ${task.step.claimants.min} claimant(s)`);
      }
      return;
    }
    // Any of a slip's people answers it, without claiming it first.
    if (task.supervision) candidateOf(task, req.actor);
    else assigneeCheck(task, req.actor);
    const outcome = task.step.outcomes.find((o) => o.id === req.outcome);
    if (!outcome) {
      reject('invalid', 'Unknown outcome', [
        {
          path: 'outcome',
          message: `must be one of: ${task.step.outcomes.map((o) => o.id).join(', ')}`,
        },
      ]);
    }
    if (outcome.requiresComment && !req.comment?.trim()) {
      reject('invalid', 'This outcome needs a comment', [
        { path: 'comment', message: `required for outcome "${outcome.id}"` },
      ]);
    }
    checkInCheck(task, req);
    const checked = validateCaseData(task.step.form?.fields ?? [], req.form, 'form');
    if (!checked.ok) reject('invalid', 'The form is not valid', checked.problems);
    // A department assessment's review (条块考核): vetoes of assessed departments, each with its reason.
    if (run.assessment !== null && task.step.id === run.assessment.stepId) {
      const vetoes = vetoesOf(checked.data, run.assessment.departments);
      if (!vetoes.ok) reject('invalid', 'The vetoes are not valid', vetoes.problems);
    }
    const missing = (outcome.requires ?? []).filter((name) => isBlank(checked.data[name]));
    if (missing.length > 0) {
      reject(
        'invalid',
        `Outcome "${outcome.id}" needs ${missing.join(', ')}`,
        missing.map((name) => ({
          path: `form.${name}`,
          message: `required for outcome "${outcome.id}"`,
        })),
      );
    }
  },

  return: (run: CaseRun, req: ReturnTaskRequest): void => {
    const task = openTask(run, req.taskId);
    notASlip(task);
    if (task.kind !== 'task') reject('conflict', 'Only a task can be returned');
    if (!isSupervisor(req.actor)) assigneeCheck(task, req.actor);
    if (!req.reason.trim()) {
      reject('invalid', 'A return needs a reason', [
        { path: 'reason', message: 'must not be empty' },
      ]);
    }
    // Back to the pool finishes nothing: a move like a release (a dispatcher may return a task
    // nobody holds, again and again; uncounted, that was a way to Temporal's 2,000 Updates).
    if ((task.step as TaskStepSpec).onReturn === undefined) checkMoveInRun(run);
  },

  reassign: (run: CaseRun, req: ReassignTaskRequest): void => {
    const task = openTask(run, req.taskId);
    notASlip(task);
    if (!isSupervisor(req.actor)) reject('forbidden', 'Only a dispatcher may reassign a task');
    if (task.kind !== 'task') reject('conflict', 'A pool is claimed, not reassigned');
    checkMoveInRun(run);
  },
};

/**
 * Ends a handler: the person's action on the timeline (who, from where), the task marked changed
 * and written, so the caller reads its own write.
 */
async function recorded(
  run: CaseRun,
  req: { actor: ActingPrincipal },
  task: TaskRuntime,
  type: TimelineEventType,
  detail: Detail = {},
): Promise<TaskView> {
  run.projection.record(
    type,
    actorOf(req.actor),
    task.step.id,
    { task: task.id, ...detail },
    req.actor.via,
  );
  task.changed();
  await run.projection.flush();
  return task.snapshot();
}

export type TaskView = Omit<TaskSnapshot, 'version'>;

/** Handlers: they run only after their validator accepted the request. */
export const taskHandlers = {
  claim: async (run: CaseRun, req: ClaimTaskRequest): Promise<TaskView> => {
    const task = run.tasks.get(req.taskId)!;
    const already =
      task.kind === 'task'
        ? task.assignee?.userId === req.actor.id
        : task.claimants.some((c) => c.userId === req.actor.id);
    if (already) return task.snapshot();
    const candidate = candidateOf(task, req.actor);
    if (task.kind === 'task') run.shuffles++;
    if (task.kind === 'task') {
      task.assignee = candidate;
      task.status = 'claimed';
    } else {
      task.claimants.push(candidate);
    }
    task.stopClocks('claim');
    return recorded(run, req, task, 'task.claimed');
  },

  release: (run: CaseRun, req: ClaimTaskRequest): Promise<TaskView> => {
    const task = run.tasks.get(req.taskId)!;
    run.shuffles++;
    task.releases.set(req.actor.id, (task.releases.get(req.actor.id) ?? 0) + 1);
    task.assignee = null;
    task.status = 'open';
    return recorded(run, req, task, 'task.released');
  },

  complete: async (run: CaseRun, req: CompleteTaskRequest): Promise<TaskView> => {
    const task = run.tasks.get(req.taskId)!;
    if (task.step.type === 'claim' && task.roster) {
      await closeRoster(run, task, 'closed-by-dispatcher', (detail) =>
        run.projection.record(
          'claim.closed',
          actorOf(req.actor),
          task.step.id,
          detail,
          req.actor.via,
        ),
      );
      return task.snapshot();
    }
    if (task.step.type === 'claim') {
      const claimants = task.claimants.length;
      task.finish('completed');
      return recorded(run, req, task, 'claim.closed', {
        claimants,
        reason: 'closed-by-dispatcher',
      });
    }
    // Parsed again (the validator cannot hand its result over) for trimmed, typed values.
    const checked = validateCaseData(task.step.form?.fields ?? [], req.form, 'form');
    const outcome = task.step.outcomes.find((o) => o.id === req.outcome)!;
    task.outcome = outcome.id;
    task.form = checked.ok ? checked.data : {};
    task.comment = req.comment?.trim() || null;
    if (task.supervision) {
      // The slip's own entry: a supervisor's reply is not the case being taken on (接单).
      task.assignee = candidateOf(task, req.actor);
      const reply = task.form.reply;
      task.supervision.reply = typeof reply === 'string' ? reply : null;
      task.finish('completed');
      return recorded(run, req, task, 'supervision.replied', {
        outcome: outcome.id,
        level: task.supervision.level,
        overdue: task.supervision.overdue,
      });
    }
    if (req.checkIn && appliesSince2026_11(CHANGES_SINCE_2026_11.locationCheckIn)) {
      // The judgement on the timeline; the position stays on the task (and the encrypted history).
      task.checkIn = req.checkIn;
      run.projection.record(
        'task.checked-in',
        actorOf(req.actor),
        task.step.id,
        checkInDetail(task.id, req.checkIn),
        req.actor.via,
      );
    }
    task.finish('completed', outcome.next);
    return recorded(run, req, task, 'task.completed', { outcome: outcome.id });
  },

  return: (run: CaseRun, req: ReturnTaskRequest): Promise<TaskView> => {
    const task = run.tasks.get(req.taskId)!;
    const step = task.step as TaskStepSpec;
    task.comment = req.reason.trim();
    if (step.onReturn !== undefined) {
      task.finish('returned', step.onReturn);
    } else {
      // Back to the pool: the clocks keep running, the deadline is not restarted.
      run.shuffles++;
      const giver = task.assignee?.userId;
      if (giver) task.releases.set(giver, (task.releases.get(giver) ?? 0) + 1);
      task.assignee = null;
      task.status = 'open';
    }
    return recorded(run, req, task, 'task.returned', { reason: task.comment.slice(0, 500) });
  },

  reassign: async (run: CaseRun, req: ReassignTaskRequest): Promise<TaskView> => {
    const task = run.tasks.get(req.taskId)!;
    run.shuffles++;
    // The dispatcher's choice stands: whoever gave the task back may now hold it again.
    if (req.to.userId !== null) task.releases.delete(req.to.userId);
    task.candidates = [req.to];
    task.assignee = req.to.userId !== null ? req.to : null;
    task.status = task.assignee ? 'claimed' : 'open';
    if (task.assignee) task.stopClocks('claim');
    await recorded(run, req, task, 'task.reassigned', { to: req.to.personId, by: 'dispatcher' });
    await run.deliver([{ slot: req.to.personId, to: { personId: req.to.personId } }], {
      template: 'task-assigned',
      keyBase: `${task.id}:reassigned:${run.projection.view().revision}`,
      stepId: task.step.id,
      context: {
        caseId: run.caseId,
        processName: run.spec.name,
        taskName: task.name,
        deadlines: [],
      },
    });
    await run.projection.flush();
    return task.snapshot();
  },
};

/**
 * A completion's check-in (签到) against its step: required and missing, or sent to a step that
 * asks for none (a position is not collected where nobody needs it), is refused naming `checkIn`.
 */
function checkInCheck(task: TaskRuntime, req: CompleteTaskRequest): void {
  const rule = checkInRuleOf(task.step);
  if (req.checkIn !== undefined && (rule === null || task.supervision)) {
    reject('invalid', 'This step does not ask for a check-in', [
      { path: 'checkIn', message: `step "${task.step.id}" has no checkIn: leave it out` },
    ]);
  }
  if (rule?.required && !task.supervision && req.checkIn === undefined) {
    reject('invalid', 'This step needs a location check-in (签到) with its completion', [
      {
        path: 'checkIn',
        message: `required by step "${task.step.id}": send { lat, lng, accuracy } from the phone's location`,
      },
    ]);
  }
}

/** What the timeline says of a check-in: the judgement, never the position. */
function checkInDetail(taskId: string, checkIn: CheckInRecord): Detail {
  return {
    task: taskId,
    accuracy: checkIn.accuracy,
    ...(checkIn.distance !== null ? { distance: checkIn.distance } : {}),
    ...(checkIn.limit !== null ? { limit: checkIn.limit } : {}),
    ...(checkIn.within !== null ? { within: checkIn.within } : {}),
    ...(checkIn.placeUnitId !== null ? { unitId: checkIn.placeUnitId } : {}),
  };
}

/** A form value that says nothing: absent, an empty text, an empty list. */
function isBlank(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    value === '' ||
    (Array.isArray(value) && value.length === 0)
  );
}
