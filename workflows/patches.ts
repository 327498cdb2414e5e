import { patched } from '@temporalio/workflow';

/**
 * Changes to the commands the interpreter issues, each guarded so that running cases replay as
 * they were recorded (see workflows/README.md).
 */
export const CHANGES = {
  /** People lookups run as local activities (fewer round trips per human step). */
  localPeopleLookup: 'local-people-lookup',
  /** A step's `step.completed` entry rides with the next step's write instead of its own. */
  stepCompletedRidesNextWrite: 'step-completed-rides-next-write',
  /** People lookups run one after the other (local activities resolve in schedule order on replay). */
  serialPeopleLookups: 'serial-people-lookups',
  /**
   * A pause holds an SLA clock at once (its timer is cancelled) and a resumption holds it until
   * the plan that knows of it returns: no event from a plan made before the pause or resumption.
   */
  pauseHoldsClock: 'sla-pause-holds-clock',
  /** An escalation handing a task to one person is that person's claim (签收): claim clocks stop. */
  escalationReassignClaims: 'sla-escalation-reassign-claims',
  /** Escalation levels are kept apart like reminders: a lower level due later still fires. */
  crossedEscalationLevels: 'sla-crossed-escalation-levels',
  /**
   * Task, claim and end steps record no `step.entered` and no bare `step.completed`: their own
   * entries say it. Guarded so a running case keeps numbering its timeline as it did.
   */
  stepEntriesImplied: 'step-entries-implied',
} as const;

/**
 * A failure escaping the steps is projected (case `failed`, tasks withdrawn, clocks stopped,
 * admins mailed) before the workflow fails. Its own `patched()`, outside the combined marker:
 * cases that failed before it replay to the bare failure they recorded.
 */
export const CASE_FAILURE_PROJECTED = 'case-failure-projected';

type Change = (typeof CHANGES)[keyof typeof CHANGES];

/**
 * One marker that stands for every change in {@link CHANGES}. Each patch marker costs a case a
 * history event and, since the SDK upserts the TemporalChangeVersion search attribute beside it,
 * a visibility write on the server: a case that runs its first guarded code on today's
 * interpreter records this marker alone instead of one per change.
 *
 * It must only ever stand for the changes listed above: a later change gets a `patched()` of its
 * own (or a new marker standing for it and all of these), never this one, which cases recorded
 * without that change carry.
 */
const ALL_CHANGES_TO_2026_11 = 'changes-to-2026-11';

/**
 * Whether a change applies to this case. A case that recorded the combined marker takes every
 * change; one recorded before it takes a change as its own marker says, as it always did. Both
 * are `patched()` checks, so replay answers exactly what the first run answered: on a first run
 * (or once a replayed case runs on live) the combined marker is recorded and the answer is yes.
 */
export function applies(change: Change): boolean {
  return (
    patched(ALL_CHANGES_TO_2026_12_07) ||
    patched(ALL_CHANGES_TO_2026_12) ||
    patched(ALL_CHANGES_TO_2026_11) ||
    patched(change)
  );
}

/**
 * One marker that stands for every change in {@link CHANGES} and in {@link CHANGES_SINCE_2026_11}:
 * a case first run on the interpreter of December 2026 (before the 2026-12-07 marker) recorded it alone (one history event, one visibility
 * write) instead of the 2026-11 marker plus one per later change. It stands for exactly these;
 * a later change gets a marker of its own, or a new combined one standing for it and all these.
 */
const ALL_CHANGES_TO_2026_12 = 'changes-to-2026-12';

/**
 * Changes after the 2026-11 marker. Only the 2026-12 marker (or a change's own marker, never
 * recorded so far) carries them: a case that recorded the 2026-11 marker alone did not run them.
 */
export const CHANGES_SINCE_2026_11 = {
  /**
   * People lookups send the moment of selection (`at`, the workflow's time): a post holder away
   * then is replaced by their stand-in (AB岗: named on the absence, else the post's B-holder, else
   * 兜底 upwards), and `onDuty` reads the duty rota at that moment (common/stand-ins.ts).
   */
  availabilityAtSelection: 'availability-at-selection',
  /**
   * Working-time deadlines count in the hours of the unit they run for (a task's unit, else the
   * case's; common/working-hours.ts) instead of the one set of office hours. Asked by each clock
   * at its first plan and kept by the clock (carried across continue-as-new), so a clock planned
   * before keeps office hours when it is re-planned.
   */
  unitWorkingHours: 'unit-working-hours',
  /**
   * The `assessment` step (条块考核, workflows/steps/assessment.ts): two activities and a review
   * task. A new step type: no case recorded before it runs one, so the combined marker may stand
   * for it without changing any recorded case's replay (a case that recorded the 2026-12 marker
   * without it never reached such a step).
   */
  departmentAssessment: 'department-assessment',
  /**
   * A `feedback` step with `from` (docs 6.8) looks up the raters it names and writes their
   * accounts on the case. `from` is new: only definitions published with it have it, so no case
   * recorded before reaches the lookup, and the combined marker may stand for it (as above).
   */
  feedbackRaters: 'feedback-raters',
  /**
   * A task completed with a location check-in (签到) records `task.checked-in` before its
   * `task.completed` and keeps the check-in on its task. Asked only by a completion that carries
   * one, which only a step with `checkIn` accepts: no case recorded before it has such a step,
   * so the combined marker may stand for it.
   */
  locationCheckIn: 'location-check-in',
  /**
   * A photo attached to the case (the attachment service's `photoAttached` signal) records
   * `attachment.added` on its timeline. Asked only by that signal's handler: no case recorded
   * before it received the signal, so the combined marker may stand for it.
   */
  attachmentTimeline: 'attachment-timeline',
  /**
   * A deadline `at` a date with `after` (3 working days after a meeting date) and a timer `until`
   * an instant with `after`: one `planDeadline` activity turns the instant plus `after` into the
   * due instant in the unit's working calendar. `after` is new syntax: only definitions published
   * with it reach the activity, so the combined marker may stand for it.
   */
  afterADate: 'after-a-date',
  /**
   * The `lookup` step (读取登记数据, workflows/steps/lookup.ts): one activity reading registered
   * figures into the case. A new step type: no case recorded before it runs one, so the combined
   * marker may stand for it without changing any recorded case's replay (as for the assessment).
   */
  lookupStep: 'lookup-step',
  /**
   * A task step's `requester` candidate (docs 6.2): one lookup of the requester's account, and
   * when there is none the `otherwise` people and a `task.requester-unreachable` entry. New
   * syntax: only definitions published with it reach it, so the combined marker may stand for it.
   */
  requesterTasks: 'requester-tasks',
} as const;

/** Whether a change made after the 2026-11 marker applies to this case (see above). */
export function appliesSince2026_11(
  change: (typeof CHANGES_SINCE_2026_11)[keyof typeof CHANGES_SINCE_2026_11],
): boolean {
  return patched(ALL_CHANGES_TO_2026_12_07) || patched(ALL_CHANGES_TO_2026_12) || patched(change);
}

/**
 * One marker that stands for every change above (the 2026-11 and 2026-12 markers' and
 * {@link CHANGES_SINCE_2026_11}) and for those in {@link CHANGES_SINCE_2026_12}: a case first run
 * on today's interpreter records it alone. The 2026-12 marker could not take the changes below:
 * cases recorded with it wrote their read model through regular activities, and must replay so.
 * It stands for exactly these; a later change gets a marker of its own, or a new combined one.
 */
const ALL_CHANGES_TO_2026_12_07 = 'changes-to-2026-12-07';

/** Changes after the 2026-12 marker: only the 2026-12-07 marker (or the change's own) carries them. */
export const CHANGES_SINCE_2026_12 = {
  /**
   * The read model's writes (`recordCaseProgress`, workflows/projection.ts) run as local
   * activities, in turn with the people lookups: each write is one marker in the history instead
   * of three events and a workflow task of its own, and an Update's write completes within the
   * workflow task that accepted it (issue 14, bench/README.md "The engine's cost per case").
   */
  localProjectionWrites: 'local-projection-writes',
  /**
   * A case whose first step is a task writes its opening (`case.started`, the document's insert)
   * together with that task's `task.opened`, after the task's people lookup: one write fewer a
   * case (workflows/case-workflow.ts).
   */
  openingRidesFirstTask: 'opening-rides-first-task',
  /**
   * The `grant` step (登记到组织架构, workflows/steps/grant.ts): one activity writes a post (and a
   * new person) to the org data. A new step type only new definitions have: no case recorded
   * before it reaches one, so the combined marker may stand for it without changing any recorded
   * case's replay (as the 2026-12 marker stands for the lookup step).
   */
  orgGrant: 'org-grant',
} as const;

/** Whether a change made after the 2026-12 marker applies to this case (see above). */
export function appliesSince2026_12(
  change: (typeof CHANGES_SINCE_2026_12)[keyof typeof CHANGES_SINCE_2026_12],
): boolean {
  return patched(ALL_CHANGES_TO_2026_12_07) || patched(change);
}

/**
 * A `forEach` sub-process starts its children in parallel (slices of a large fan-out through
 * fan-out batch workflows) and takes up to 20,000 of them; before, one after the other, at most
 * 200. Its own `patched()`: cases recorded before it replay the serial fan-out.
 */
export const FAN_OUT_IN_PARALLEL = 'fan-out-in-parallel';

/**
 * A mail step with more than 20 recipients hands them to the outbox in slices of 500, one
 * activity each and all at once, with one timeline entry per slice; before, one activity per
 * recipient, one after the other. Its own `patched()`, asked only for such long lists.
 */
export const BATCHED_NOTIFICATIONS = 'batched-notifications';

/**
 * Roster roll-calls (workflows/steps/task.ts): a roll-call's people are written to the roster
 * collection by one activity and acknowledged there, so its history holds counts, not lists.
 * Its own marker (recorded only by cases that open a roll-call): the combined marker above
 * stands for the changes before it only. Cases that opened a roll-call before keep the old path.
 */
export const ROSTER_ROLL_CALL = 'roster-roll-call';

/** Whether a roll-call opening now uses the roster (see {@link ROSTER_ROLL_CALL}). */
export function rosterRollCalls(): boolean {
  return patched(ROSTER_ROLL_CALL);
}

/**
 * A roster roll-call opens in one activity: `openRollCall` also plans its clocks and window and
 * sends the call to everyone, and the case's first read-model write (its opening, when the
 * roll-call is its first step) goes with the task's, after the roster and the call: one activity
 * and one write before the roll-call waits, where there were four activities (the opening, two
 * plans, the call) and three writes (bench:rollcall, docs/roll-calls-at-scale.md). Its own
 * `patched()`, asked only where such a roll-call opens (and, for a first step, as the case
 * starts): it stands for {@link ROSTER_ROLL_CALL} too, so a new case records this marker alone;
 * cases that opened a roll-call before keep their path on replay.
 */
export const ROSTER_OPENED_IN_ONE_ACTIVITY = 'roster-opened-in-one-activity';

/** Whether a roster roll-call opens in one activity (see {@link ROSTER_OPENED_IN_ONE_ACTIVITY}). */
export function rosterOpenedInOneActivity(): boolean {
  return patched(ROSTER_OPENED_IN_ONE_ACTIVITY);
}

/**
 * A case with sub-process steps pins the versions of their processes when it starts (one lookup
 * before its first step) and starts those versions; before, each step loaded the latest. Its own
 * `patched()`, asked only by definitions with sub-process steps.
 */
export const PINNED_SUBPROCESS_VERSIONS = 'pinned-subprocess-versions';

/**
 * An evaluation round's scores are written by the API to the store (one document per scorer and
 * order) instead of one Update per submission, so a round's history no longer grows with its
 * scores (ARCHITECTURE.md decision 8); the round closes a grace period (SCORE_CLOSE_GRACE_MS)
 * after its closing instant, one timer more. Its own `patched()`: rounds recorded before it keep
 * taking scores as Updates and close at the instant.
 */
export const EVALUATION_SCORES_VIA_API = 'evaluation-scores-via-api';

/**
 * An evaluation round without `orders.definitions` scores the service orders
 * (isServiceOrderProcess in common/evaluation.ts) instead of every process but its own. Its own
 * `patched()`, asked when a round opens: rounds recorded before it keep the old selection (the
 * opening activity reads a request without `processes` the old way).
 */
export const EVALUATION_SERVICE_ORDERS = 'evaluation-service-orders';

/**
 * Supervision slips (workflows/supervision.ts): an escalation level with `supervise` opens a 督办单
 * (a people lookup for `to`, a deadline plan, a timer). Its own `patched()`, asked only when such
 * a level fires: no case recorded before it has one.
 */
export const SUPERVISION_SLIPS = 'supervision-slips';

/** Whether a firing level with `supervise` opens its slip (see {@link SUPERVISION_SLIPS}). */
export function openingSlips(): boolean {
  return patched(SUPERVISION_SLIPS);
}

/**
 * The `recurrence` step (未诉先办, workflows/steps/recurrence.ts): reads the period's requests,
 * then starts one proactive case per recurring group. Its own `patched()`, asked only when such a
 * step runs: an interpreter before it had no runner for the type and went straight on to the
 * step's successor, so a case that passed the step on such a worker (a rolling deploy) replays
 * to the same: nothing read, nothing started.
 */
export const RECURRENCE_STEP = 'recurrence-step';

/**
 * The `repeat` step (workflows/steps/repeat.ts): runs its block once per iteration. Its own
 * `patched()`, asked only when such a step runs: an interpreter before it had no runner for the
 * type and went straight on to the step's successor, so a case that passed the step on such a
 * worker (a rolling deploy) replays to the same: nothing repeated.
 */
export const REPEAT_STEP = 'repeat-step';

/** Whether a `repeat` step runs its block here (see {@link REPEAT_STEP}). */
export function repeatingBlocks(): boolean {
  return patched(REPEAT_STEP);
}

/** Whether a `recurrence` step analyses and opens cases here (see {@link RECURRENCE_STEP}). */
export function analysingRecurrence(): boolean {
  return patched(RECURRENCE_STEP);
}

/**
 * A run continued as new knows the photos its earlier runs put on the timeline (carried in the
 * continuation, workflows/continuation.ts), so a repeated `photoAttached` signal records no second
 * `attachment.added`. Its own `patched()`, asked only when a repeat of a carried photo arrives:
 * not the 2026-12 combined marker, which a run on a worker before this change also records (a
 * rolling deploy or a rollback), and such a run recorded the repeat; it replays to that entry.
 */
export const PHOTOS_CARRIED_ACROSS_RUNS_MARKER = 'photos-carried-across-runs';

/**
 * A roster roll-call that closes with people missing still fires its clocks' missed deadline and
 * the escalation levels that came due while it was open but had not fired yet (the case ran
 * late: a loaded or stopped worker, slow activities before them), before the step ends; before
 * this, closing stopped the clocks and such levels were dropped without a trace (bench:rollcall at
 * 10,000 people on a loaded machine: compounds with people missing and no escalation at all,
 * docs/roll-calls-at-scale.md). Its own `patched()`,
 * asked only when a closing roll-call has such a level: not a combined marker, which cases that
 * closed a roll-call late and dropped its levels recorded too; they replay to the drop.
 */
export const LATE_ROLL_CALL_ESCALATIONS = 'late-roll-call-escalations';

/** Whether a closing roll-call fires the levels due before its close (see above). */
export function firesLateRollCallEscalations(): boolean {
  return patched(LATE_ROLL_CALL_ESCALATIONS);
}

/**
 * A fan-out too large for one slice hands each fan-out batch workflow its slice in the compact
 * shape (workflows/fan-out-batch.ts, `compactSlice`): the definition snapshot and the other input
 * fields the children share once per slice, not once per child. Each batch start's input had
 * carried every child's whole input and memo (about 1 MB per slice of 250 emergency compounds),
 * so the parent's history grew by that per slice: past 10 MB at about 2,500 children and past
 * the server's 50 MB limit before MAX_CHILD_CASES. Its own `patched()`, asked only by a fan-out
 * that starts batches: a parent that started its batches before replays to the same start
 * commands, and batches started in either shape run (`childStartsOf`).
 */
export const FAN_OUT_COMPACT_SLICES = 'fan-out-compact-slices';

/** Whether this fan-out hands its batches compact slices (see above). */
export function compactsFanOutSlices(): boolean {
  return patched(FAN_OUT_COMPACT_SLICES);
}
