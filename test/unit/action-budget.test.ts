import type { ActingPrincipal, Candidate, ClaimTaskRequest } from '../../common/case';
import type { TaskStepSpec } from '../../lang/definition';
import { MOVES_STOP_IN_RUN_AT, SHUFFLE_BUDGET } from '../../workflows/action-budget';
import type { CaseRun } from '../../workflows/run';
import type { TaskHost } from '../../workflows/task-runtime';
import { TaskRuntime } from '../../workflows/task-runtime';
import { taskValidators } from '../../workflows/tasks';

/**
 * The budget of moves (claims, releases, returns to the pool, reassignments, pauses) per case, through the Update
 * validators themselves: at the budget, moves are refused and finishing work is not.
 */

const worker: Candidate = { personId: 'p-1', userId: 'usr-1', unitId: 'grid-1' };
const staff: ActingPrincipal = { kind: 'user', id: 'usr-1', roles: ['staff'], via: 'test' };
const dispatcher: ActingPrincipal = {
  kind: 'user',
  id: 'usr-9',
  roles: ['dispatcher'],
  via: 'test',
};

const step: TaskStepSpec = {
  id: 'serve',
  name: '办理',
  type: 'task',
  candidates: [],
  outcomes: [{ id: 'done', name: '办结', requiresComment: false }],
  deadlines: [],
} as unknown as TaskStepSpec;

/** The same task, whose return ends it and sends the case back to dispatch (`onReturn`). */
const stepReturningToDispatch = { ...step, onReturn: 'dispatch' } as TaskStepSpec;

/** A case run as the validators read it: its tasks and its count of moves. */
function runWith(
  shuffles: number,
  claimed: boolean,
  taskStep: TaskStepSpec = step,
  updatesAccepted = 0,
): { run: CaseRun; taskId: string } {
  const host = { caseId: 'case-1', caseUnitId: 'grid-1' } as unknown as TaskHost;
  const task = new TaskRuntime(host, 'case-1.serve.1', taskStep, [worker], 'grid-1', 'x');
  if (claimed) {
    task.assignee = worker;
    task.status = 'claimed';
  }
  const run = {
    closed: false,
    shuffles,
    updatesAccepted,
    assessment: null,
    tasks: new Map([[task.id, task]]),
  };
  return { run: run as unknown as CaseRun, taskId: task.id };
}

function refusalOf(check: () => void): string | null {
  try {
    check();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

describe('the budget of moves per case', () => {
  it('when the case is one move short of the budget, then a claim is accepted', () => {
    const { run, taskId } = runWith(SHUFFLE_BUDGET - 1, false);
    const claim: ClaimTaskRequest = { taskId, actor: staff };
    expect(refusalOf(() => taskValidators.claim(run, claim))).toBeNull();
  });

  it('when the case has spent its budget, then claims, releases and reassignments are refused, saying why', () => {
    const open = runWith(SHUFFLE_BUDGET, false);
    const held = runWith(SHUFFLE_BUDGET, true);
    const messages = [
      refusalOf(() => taskValidators.claim(open.run, { taskId: open.taskId, actor: staff })),
      refusalOf(() => taskValidators.release(held.run, { taskId: held.taskId, actor: staff })),
      refusalOf(() =>
        taskValidators.reassign(held.run, {
          taskId: held.taskId,
          actor: dispatcher,
          to: worker,
        }),
      ),
    ];
    for (const message of messages) {
      expect(message).toContain(`has taken ${SHUFFLE_BUDGET} claims, releases`);
    }
  });

  it('when the case has spent its budget, then the holder may still complete the task, or return it to the step its definition names', () => {
    const { run, taskId } = runWith(SHUFFLE_BUDGET, true);
    expect(
      refusalOf(() =>
        taskValidators.complete(run, { taskId, actor: staff, outcome: 'done', form: {} }),
      ),
    ).toBeNull();
    const ending = runWith(SHUFFLE_BUDGET, true, stepReturningToDispatch);
    expect(
      refusalOf(() =>
        taskValidators.return(ending.run, {
          taskId: ending.taskId,
          actor: staff,
          reason: '不属实',
        }),
      ),
    ).toBeNull();
  });

  it('when the case has spent its budget, then a return to the pool is refused, even a dispatcher returning a task nobody holds', () => {
    // A return without `onReturn` finishes nothing: uncounted, a dispatcher could send one task
    // back to the pool past Temporal's 2,000 Updates per run.
    const held = runWith(SHUFFLE_BUDGET, true);
    const open = runWith(SHUFFLE_BUDGET, false);
    const messages = [
      refusalOf(() =>
        taskValidators.return(held.run, { taskId: held.taskId, actor: staff, reason: '不属实' }),
      ),
      refusalOf(() =>
        taskValidators.return(open.run, { taskId: open.taskId, actor: dispatcher, reason: '重派' }),
      ),
    ];
    for (const message of messages) {
      expect(message).toContain(
        `has taken ${SHUFFLE_BUDGET} claims, releases, returns to the pool`,
      );
    }
    const below = runWith(SHUFFLE_BUDGET - 1, false);
    expect(
      refusalOf(() =>
        taskValidators.return(below.run, {
          taskId: below.taskId,
          actor: dispatcher,
          reason: '重派',
        }),
      ),
    ).toBeNull();
  });
});

describe('the moves one run takes near Temporal’s 2,000 Updates', () => {
  it('when the run has accepted the Updates at which moves stop, then releases, returns to the pool and reassignments are refused, saying why', () => {
    const held = runWith(0, true, step, MOVES_STOP_IN_RUN_AT);
    const messages = [
      refusalOf(() => taskValidators.release(held.run, { taskId: held.taskId, actor: staff })),
      refusalOf(() =>
        taskValidators.return(held.run, { taskId: held.taskId, actor: staff, reason: '不属实' }),
      ),
      refusalOf(() =>
        taskValidators.reassign(held.run, {
          taskId: held.taskId,
          actor: dispatcher,
          to: worker,
        }),
      ),
    ];
    for (const message of messages) {
      expect(message).toContain(`This run of the case has taken ${MOVES_STOP_IN_RUN_AT} actions`);
    }
  });

  it('when the run has accepted the Updates at which moves stop, then a task nobody holds may still be claimed, and a held one completed or returned to its onReturn step', () => {
    const open = runWith(0, false, step, MOVES_STOP_IN_RUN_AT);
    expect(
      refusalOf(() => taskValidators.claim(open.run, { taskId: open.taskId, actor: staff })),
    ).toBeNull();
    const held = runWith(0, true, stepReturningToDispatch, MOVES_STOP_IN_RUN_AT);
    expect(
      refusalOf(() =>
        taskValidators.complete(held.run, {
          taskId: held.taskId,
          actor: staff,
          outcome: 'done',
          form: {},
        }),
      ),
    ).toBeNull();
    expect(
      refusalOf(() =>
        taskValidators.return(held.run, { taskId: held.taskId, actor: staff, reason: '不属实' }),
      ),
    ).toBeNull();
  });

  it('when the run is one Update short of it, then a release is accepted', () => {
    const held = runWith(0, true, step, MOVES_STOP_IN_RUN_AT - 1);
    expect(
      refusalOf(() => taskValidators.release(held.run, { taskId: held.taskId, actor: staff })),
    ).toBeNull();
  });
});
