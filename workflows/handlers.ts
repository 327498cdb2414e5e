import { defineQuery, defineSignal, defineUpdate, patched, setHandler } from '@temporalio/workflow';
import type {
  ClaimTaskRequest,
  ClockRequest,
  CompleteTaskRequest,
  PhotoAttached,
  RateCaseRequest,
  ReassignTaskRequest,
  ReturnTaskRequest,
} from '../common/case';
import {
  CALENDAR_CHANGED_SIGNAL,
  CASE_UPDATES,
  PHOTO_ATTACHED_SIGNAL,
  ROLL_CALL_MAYBE_FULL_SIGNAL,
} from '../common/case';
import type { ScoreRequest, ScoreResult } from '../common/evaluation';
import { EVALUATION_SCORE_UPDATE } from '../common/evaluation';
import { checkMoveInRun } from './action-budget';
import { actorOf, isSupervisor, reject } from './callers';
import type { CaseStateView } from './projection';
import {
  appliesSince2026_11,
  CHANGES_SINCE_2026_11,
  PHOTOS_CARRIED_ACROSS_RUNS_MARKER,
} from './patches';
import type { CaseRun } from './run';
import { recordScores, validateScores } from './steps/evaluation';
import type { TaskView } from './tasks';
import { taskHandlers, taskValidators } from './tasks';

/**
 * Every Update, Signal and Query a case answers, defined with its argument and result types and
 * registered against the run. A validator answers the caller at once (and records nothing); its
 * handler runs only once the validator has accepted the request.
 */

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
export const scoreEvaluationUpdate = defineUpdate<ScoreResult, [ScoreRequest]>(
  EVALUATION_SCORE_UPDATE,
);
export const rateCaseUpdate = defineUpdate<CaseStateView, [RateCaseRequest]>(CASE_UPDATES.rate);
export const pauseClockUpdate = defineUpdate<CaseStateView, [ClockRequest]>(CASE_UPDATES.pause);
export const resumeClockUpdate = defineUpdate<CaseStateView, [ClockRequest]>(CASE_UPDATES.resume);
export const calendarChangedSignal = defineSignal(CALENDAR_CHANGED_SIGNAL);
export const rollCallMaybeFullSignal = defineSignal<[{ taskId: string }]>(
  ROLL_CALL_MAYBE_FULL_SIGNAL,
);

export const photoAttachedSignal = defineSignal<[PhotoAttached]>(PHOTO_ATTACHED_SIGNAL);

export function registerHandlers(run: CaseRun): void {
  const { projection } = run;
  setHandler(caseStateQuery, () => projection.view());

  /**
   * Every Update handler counts itself first: it runs only once its Update was accepted, which is
   * what Temporal counts against its 2,000 per run (./continuation.ts switches well before).
   */
  const counted =
    <A, R>(handler: (req: A) => R) =>
    (req: A): R => {
      run.updatesAccepted++;
      return handler(req);
    };

  // A closed case refuses every task Update before the task's own validator runs.
  const caseOpen = () => {
    if (run.closed) reject('conflict', 'The case is closed');
  };
  setHandler(
    claimTaskUpdate,
    counted((req: ClaimTaskRequest) => taskHandlers.claim(run, req)),
    {
      validator: (req: ClaimTaskRequest) => {
        caseOpen();
        taskValidators.claim(run, req);
      },
    },
  );
  setHandler(
    releaseTaskUpdate,
    counted((req: ClaimTaskRequest) => taskHandlers.release(run, req)),
    {
      validator: (req: ClaimTaskRequest) => {
        caseOpen();
        taskValidators.release(run, req);
      },
    },
  );
  setHandler(
    completeTaskUpdate,
    counted((req: CompleteTaskRequest) => taskHandlers.complete(run, req)),
    {
      validator: (req: CompleteTaskRequest) => {
        caseOpen();
        taskValidators.complete(run, req);
      },
    },
  );
  setHandler(
    returnTaskUpdate,
    counted((req: ReturnTaskRequest) => taskHandlers.return(run, req)),
    {
      validator: (req: ReturnTaskRequest) => {
        caseOpen();
        taskValidators.return(run, req);
      },
    },
  );
  setHandler(
    reassignTaskUpdate,
    counted((req: ReassignTaskRequest) => taskHandlers.reassign(run, req)),
    {
      validator: (req: ReassignTaskRequest) => {
        caseOpen();
        taskValidators.reassign(run, req);
      },
    },
  );
  // The evaluation round's scores (workflows/steps/evaluation.ts); its validator checks the case.
  setHandler(
    scoreEvaluationUpdate,
    counted((req: ScoreRequest) => recordScores(run, req)),
    {
      validator: (req: ScoreRequest) => validateScores(run, req),
    },
  );

  setHandler(
    rateCaseUpdate,
    counted(async (req: RateCaseRequest) => {
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
    }),
    {
      validator: (req: RateCaseRequest) => {
        if (!run.feedback) reject('conflict', 'The case is not waiting for a rating');
        if (run.feedback.rating !== null) reject('conflict', 'The case has already been rated');
        const raters = run.feedback.raters;
        if (raters !== undefined) {
          const requester = raters.requester && req.actor.id === run.input.startedBy.id;
          if (!requester && !raters.userIds.includes(req.actor.id) && !isSupervisor(req.actor)) {
            reject(
              'forbidden',
              'Only the raters this feedback step names (or a dispatcher on their behalf) may rate',
            );
          }
        } else if (req.actor.id !== run.input.startedBy.id && !isSupervisor(req.actor)) {
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
    checkMoveInRun(run);
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
    run.shuffles++;
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
  setHandler(
    pauseClockUpdate,
    counted((req: ClockRequest) => holdClocks(req, true)),
    {
      validator: (req: ClockRequest) => {
        mayHoldClock(req);
        if (run.pausedSince !== null) reject('conflict', 'The clock is already paused');
      },
    },
  );
  setHandler(
    resumeClockUpdate,
    counted((req: ClockRequest) => holdClocks(req, false)),
    {
      validator: (req: ClockRequest) => {
        mayHoldClock(req);
        if (run.pausedSince === null) reject('conflict', 'The clock is not paused');
      },
    },
  );
  // A roster roll-call's count may be full (services/tasks.ts): its wait checks the roster.
  setHandler(rollCallMaybeFullSignal, (req) => {
    if (typeof req?.taskId === 'string') run.rosterMaybeFull.add(req.taskId);
  });
  // A photo stored beside the case: on the timeline by its ids (never bytes or coordinates), once.
  setHandler(photoAttachedSignal, async (photo) => {
    if (!appliesSince2026_11(CHANGES_SINCE_2026_11.attachmentTimeline)) return;
    const id = photo?.attachmentId;
    if (typeof id !== 'string' || run.closed || run.photosRecorded.has(id)) return;
    // Recorded by an earlier run (carried across continue-as-new). Its own marker, asked only for
    // such a repeat: a run that recorded the repeat again (a worker before this change) replays so.
    if (run.photosRecordedBefore.has(id) && patched(PHOTOS_CARRIED_ACROSS_RUNS_MARKER)) return;
    run.photosRecorded.add(id);
    const actor = photo.actor;
    projection.record(
      'attachment.added',
      { kind: actor.kind, id: actor.id },
      photo.stepId ?? undefined,
      { attachment: id, ...(photo.taskId ? { task: photo.taskId } : {}) },
    );
    await projection.flush();
  });
  // A calendar year added or revised by an admin: running working-time deadlines move with it.
  setHandler(calendarChangedSignal, async () => {
    const active = run.clocks.filter((c) => !c.stopped);
    await Promise.all(active.map((clock) => clock.replan(run)));
    if (active.length > 0) await projection.flush();
  });
}
