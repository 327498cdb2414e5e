import type { ActingPrincipal } from '../common/case';
import { reject } from './callers';

/**
 * Limits on human actions, so no case can spend its execution's Update budget (Temporal accepts
 * 2,000 Updates per run by default) on moves that do not finish anything. Claims, releases,
 * returns to the pool, reassignments, pauses and resumptions count against
 * {@link SHUFFLE_BUDGET}; the actions that finish work (complete, a return that ends the task,
 * rate, score) are never refused by it, and the margin left under the server's cap is theirs.
 *
 * The budget is the case's, carried across continue-as-new, so no run accepts more than 1,500
 * moves; a run continues as new once it has accepted 1,500 Updates of any kind
 * (CONTINUE_AS_NEW_AT_UPDATES in ./continuation.ts), and one that cannot yet (a task open at a
 * top-level step) has 500 left for the actions that finish what is open; from
 * {@link MOVES_STOP_IN_RUN_AT} on, it refuses the moves but claims. A person who keeps taking
 * a task and giving it back is stopped at {@link RELEASES_PER_PERSON}: a dispatcher can still hand
 * it to them.
 */

/**
 * Accepted claims, releases, returns to the pool, reassignments, pauses and resumptions per case,
 * over all its runs (chosen).
 */
export const SHUFFLE_BUDGET = 1_500;

/** How often one person may give one task back (release, or return to the pool) (chosen). */
export const RELEASES_PER_PERSON = 3;

/**
 * Updates accepted by one run past which it refuses the moves that give work back or hold it
 * (releases, returns to the pool, reassignments, pauses, resumptions) until the case goes on in
 * a fresh run (chosen: the last 100 of Temporal's 2,000 per run are kept for claiming and
 * finishing what is open). Claims stay open to it: a task nobody holds must be claimable to be
 * finished, and a claim it cannot give back leads to a completion. A run reaches this only when
 * it could not switch at CONTINUE_AS_NEW_AT_UPDATES (1,500; ./continuation.ts), e.g. a claim
 * pool filling beside a task whose clock is paused and resumed again and again.
 */
export const MOVES_STOP_IN_RUN_AT = 1_900;

/** What the budget needs of a case run: the moves of the case, the Updates of this run. */
export interface ActionCounter {
  shuffles: number;
  updatesAccepted: number;
}

/** Refuses a move once the case has accepted {@link SHUFFLE_BUDGET} of them. */
export function checkShuffleBudget(run: ActionCounter): void {
  if (run.shuffles >= SHUFFLE_BUDGET) {
    reject(
      'conflict',
      `This case has taken ${SHUFFLE_BUDGET} claims, releases, returns to the pool, reassignments and pauses; ` +
        'only completing its tasks (or returning one to the step its definition names) is accepted now',
    );
  }
}

/**
 * Refuses a move that gives work back or holds it once this run has accepted
 * {@link MOVES_STOP_IN_RUN_AT} Updates (the case's budget is checked too).
 */
export function checkMoveInRun(run: ActionCounter): void {
  checkShuffleBudget(run);
  if (run.updatesAccepted >= MOVES_STOP_IN_RUN_AT) {
    reject(
      'conflict',
      `This run of the case has taken ${MOVES_STOP_IN_RUN_AT} actions, near Temporal's limit of ` +
        '2,000: only claiming and completing its tasks (or returning one to the step its ' +
        'definition names) is accepted until it goes on in a fresh run',
    );
  }
}

/** Refuses a claim by someone who has given this task back {@link RELEASES_PER_PERSON} times. */
export function checkReleases(
  releases: ReadonlyMap<string, number>,
  actor: Pick<ActingPrincipal, 'id'>,
): void {
  if ((releases.get(actor.id) ?? 0) >= RELEASES_PER_PERSON) {
    reject(
      'conflict',
      `You have given this task back ${RELEASES_PER_PERSON} times; a dispatcher can assign it to you`,
    );
  }
}
