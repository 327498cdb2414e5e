import { ApplicationFailure, condition, isCancellation } from '@temporalio/workflow';
import type {
  ActingPrincipal,
  Candidate,
  ClaimTaskRequest,
  CompleteTaskRequest,
  ReassignTaskRequest,
  ReturnTaskRequest,
  TaskSnapshot,
  TaskStatus,
  TimelineEventType,
} from '../common/case';
import { REJECTION } from '../common/case';
import { validateCaseData } from '../lang/case-data';
import type { ClaimStepSpec, TaskStepSpec } from '../lang/definition';
import { lookups } from './stubs';
import { Clock, runnableDeadline } from './clocks';
import { applies, CHANGES } from './patches';
import type { Detail, Projected } from './projection';
import { ENGINE } from './projection';
import type { CaseRun, TaskContext } from './run';
import { figuresOf, isRollCall, unacknowledged } from './roll-call';
import { SUPERVISOR_ROLES } from '../common/roles';

export function isSupervisor(actor: ActingPrincipal): boolean {
  return actor.roles.some((r) => (SUPERVISOR_ROLES as readonly string[]).includes(r));
}

export function reject(type: keyof typeof REJECTION, message: string, problems?: unknown): never {
  throw ApplicationFailure.create({
    type: REJECTION[type],
    message,
    nonRetryable: true,
    ...(problems !== undefined ? { details: [problems] } : {}),
  });
}

/**
 * A human task or a claim pool while it runs: who may act, who holds it, what it ended with.
 * Update handlers change it (after their validators accepted the request); the step runner waits
 * for it to be done.
 */
export class TaskRuntime implements Projected, TaskContext {
  status: TaskStatus = 'open';
  assignee: Candidate | null = null;
  claimants: Candidate[] = [];
  outcome: string | null = null;
  form: Record<string, unknown> = {};
  comment: string | null = null;
  /** The step to go to when done, when not the default successor. */
  target: string | undefined;
  done = false;
  closedAt: string | null = null;
  readonly clocks: Clock[] = [];

  constructor(
    private readonly run: CaseRun,
    readonly id: string,
    readonly step: TaskStepSpec | ClaimStepSpec,
    public candidates: Candidate[],
    public unitId: string | null,
    readonly openedAt: string,
  ) {}

  get name(): string {
    return this.step.name;
  }

  get kind(): 'task' | 'claim' {
    return this.step.type;
  }

  get maxClaimants(): number {
    if (this.step.type !== 'claim') return 1;
    // A roll-call closes when every candidate has claimed.
    return this.step.claimants.max === 'all' ? this.candidates.length : this.step.claimants.max;
  }

  /** A roll-call (`claimants.max: all`): every candidate is to claim (报到). */
  get rollCall(): boolean {
    return isRollCall(this.step);
  }

  snapshot(): Omit<TaskSnapshot, 'version'> {
    return {
      id: this.id,
      caseId: this.run.caseId,
      definitionKey: this.run.input.definition.key,
      caseUnitId: this.run.caseUnitId,
      stepId: this.step.id,
      name: this.step.name,
      kind: this.kind,
      status: this.status,
      candidates: this.candidates,
      assignee: this.assignee,
      claimants: this.claimants,
      maxClaimants: this.maxClaimants,
      outcomes:
        this.step.type === 'task'
          ? this.step.outcomes.map((o) => ({
              id: o.id,
              name: o.name,
              requiresComment: o.requiresComment,
            }))
          : [],
      outcome: this.outcome,
      deadlines: this.clocks.map((c) => c.view()),
      openedAt: this.openedAt,
      closedAt: this.closedAt,
    };
  }

  isOpen(): boolean {
    return this.status === 'open' || this.status === 'claimed';
  }

  changed(): void {
    this.run.projection.taskChanged(this.id, this);
    this.run.projection.deadlinesChangedNow();
  }

  stopClocks(on: 'claim' | 'complete'): void {
    for (const clock of this.clocks) {
      if (on === 'complete' || clock.spec.stopsOn === 'claim') clock.stop();
    }
  }

  finish(status: TaskStatus, target?: string): void {
    this.status = status;
    this.done = true;
    this.target = target;
    this.closedAt = new Date().toISOString();
    this.stopClocks('complete');
    this.changed();
  }

  /**
   * Escalation with reassignment: the people the ladder reached take the task over (上级接办).
   *
   * When one person with an account is reached, the task is theirs (`claimed`) and that counts
   * as their claim (签收): the task's `stopsOn: claim` clocks stop, as after a dispatcher's 转派 to
   * one person. The supervisor cannot claim a task already assigned to them, so a 签收 clock left
   * running would escalate "not accepted" up the ladder about a task its holder has accepted;
   * whether they finish in time is the `stopsOn: complete` clock's job, which keeps running.
   * Reaching several people (or a pool) only replaces the candidates: nobody holds the task, so
   * a 签收 clock still running keeps running for them, its deadline unchanged (not restarted).
   */
  onEscalation(people: readonly Candidate[]): void {
    if (!this.isOpen()) return;
    this.candidates = [...people];
    const single = people.length === 1 && people[0]!.userId !== null ? people[0]! : null;
    this.assignee = this.kind === 'task' ? single : this.assignee;
    this.status = this.assignee ? 'claimed' : 'open';
    // Cases from before the patch kept their claim clocks running, as recorded.
    if (this.kind === 'task' && single && applies(CHANGES.escalationReassignClaims)) {
      this.stopClocks('claim');
    }
    this.run.projection.record('task.reassigned', ENGINE, this.step.id, {
      task: this.id,
      people: people.length,
      by: 'escalation',
    });
    this.changed();
  }
}

/** Runs a task or claim step: opens it, starts its clocks, waits until it is done. */
export async function runTaskStep(
  run: CaseRun,
  step: TaskStepSpec | ClaimStepSpec,
  visit: number,
): Promise<string | undefined> {
  const id = `${run.caseId}.${step.id}.${visit}`;
  const resolved = await run.resolvePeople(step.candidates, null);
  const task = new TaskRuntime(
    run,
    id,
    step,
    resolved.people,
    resolved.unitId,
    new Date().toISOString(),
  );
  run.tasks.set(id, task);
  run.projection.record('task.opened', ENGINE, step.id, {
    task: id,
    candidates: resolved.people.length,
    ...(resolved.fellBack ? { fellBack: true } : {}),
  });
  for (const deadline of step.deadlines) {
    const runnable = runnableDeadline(deadline, task.openedAt, run.expressionScope());
    if (runnable === null) continue;
    task.clocks.push(new Clock(`${id}/${deadline.id}`, runnable, task.openedAt, step.id, task));
  }
  // Plans first, so the announcement can name the deadlines.
  await Promise.all(task.clocks.map((clock) => clock.replan(run)));
  // Observed at once: in a branch that lost a race (join: any) the clocks are cancelled with it,
  // and a rejection left unobserved until a later activation fails the workflow task.
  const clockRuns = task.clocks.map((clock) =>
    run.startClock(clock).then(
      () => null,
      (err: unknown) => err,
    ),
  );
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
    else await condition(() => task.done);
  } catch (err) {
    if (isCancellation(err) && task.isOpen()) {
      // A parallel branch lost the race (join: any): the task is withdrawn, not left open.
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
  run.steps[step.id] = {
    outcome: task.outcome,
    form: task.form,
    comment: task.comment,
    by: task.assignee?.personId ?? null,
    claimants: task.claimants.map((c) => c.personId),
    status: task.status,
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
    if (task.kind === 'task') {
      if (task.assignee?.userId === req.actor.id) return;
      if (task.assignee) reject('conflict', 'The task is already claimed by someone else');
    } else {
      if (task.claimants.some((c) => c.userId === req.actor.id)) return;
      if (task.claimants.length >= task.maxClaimants) {
        reject('conflict', `The pool already has its ${task.maxClaimants} claimant(s)`);
      }
    }
    candidateOf(task, req.actor);
  },

  release: (run: CaseRun, req: ClaimTaskRequest): void => {
    const task = openTask(run, req.taskId);
    if (task.kind !== 'task') reject('conflict', 'A claim in a pool cannot be released');
    assigneeCheck(task, req.actor);
  },

  complete: (run: CaseRun, req: CompleteTaskRequest): void => {
    const task = openTask(run, req.taskId);
    if (task.step.type === 'claim') {
      if (!isSupervisor(req.actor)) reject('forbidden', 'Only a dispatcher may close a pool');
      if (task.claimants.length < task.step.claimants.min) {
        reject('conflict', `The pool needs at least ${task.step.claimants.min} claimant(s)`);
      }
      return;
    }
    assigneeCheck(task, req.actor);
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
    const checked = validateCaseData(task.step.form?.fields ?? [], req.form, 'form');
    if (!checked.ok) reject('invalid', 'The form is not valid', checked.problems);
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
    if (task.kind !== 'task') reject('conflict', 'Only a task can be returned');
    if (!isSupervisor(req.actor)) assigneeCheck(task, req.actor);
    if (!req.reason.trim()) {
      reject('invalid', 'A return needs a reason', [
        { path: 'reason', message: 'must not be empty' },
      ]);
    }
  },

  reassign: (run: CaseRun, req: ReassignTaskRequest): void => {
    const task = openTask(run, req.taskId);
    if (!isSupervisor(req.actor)) reject('forbidden', 'Only a dispatcher may reassign a task');
    if (task.kind !== 'task') reject('conflict', 'A pool is claimed, not reassigned');
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
    task.assignee = null;
    task.status = 'open';
    return recorded(run, req, task, 'task.released');
  },

  complete: (run: CaseRun, req: CompleteTaskRequest): Promise<TaskView> => {
    const task = run.tasks.get(req.taskId)!;
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
      task.assignee = null;
      task.status = 'open';
    }
    return recorded(run, req, task, 'task.returned', { reason: task.comment.slice(0, 500) });
  },

  reassign: async (run: CaseRun, req: ReassignTaskRequest): Promise<TaskView> => {
    const task = run.tasks.get(req.taskId)!;
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

export function actorOf(actor: ActingPrincipal) {
  return { kind: actor.kind, id: actor.id };
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
