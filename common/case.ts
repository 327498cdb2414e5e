import type { ChannelChoice } from '../lang/vocabulary';
import type { CatalogueRouting } from './catalogue';
import type { DefinitionSnapshot } from '../lang/definition';
import type { Role } from './roles';

/**
 * Shapes that cross the API ↔ Temporal ↔ activity boundaries. Types only (plus constants), so
 * workflow code may import them.
 */

export const CASE_WORKFLOW_TYPE = 'caseWorkflow';

export type CaseStatus = 'open' | 'closed' | 'rejected' | 'cancelled' | 'failed';

/** Who acted: a person's account or a system's API key. Ids only, never names or contacts. */
export interface Actor {
  /** `person`: someone of the org data without an account (a quick report's verified member). */
  kind: 'user' | 'apiKey' | 'system' | 'person';
  id: string;
}

export interface CaseWorkflowInput {
  caseId: string;
  definition: DefinitionSnapshot;
  data: Record<string, unknown>;
  startedBy: Actor & { roles: Role[] };
  /** The org unit the case belongs to (scope of who may see it). */
  unitId?: string;
  /** The definition's category code the case was filed under (诉求类别), if it has categories. */
  category?: string;
  /** Hash of the start request, to tell a retry from a conflicting reuse of an Idempotency-Key. */
  requestHash: string;
  /** ISO instant the API accepted the request. */
  receivedAt: string;
  /** Where the request came from (`api`, `open311`, later `console`, `schedule`, `subprocess`). */
  channel: string;
  /** The case that started this one as a sub-process. */
  parentCaseId?: string;
  /**
   * A retry of a failed case (services/case-failures.ts): the run starts at this step instead of
   * the definition's first, on top of the case document as the failed run left it. Absent on
   * every ordinary start, so recorded histories are unaffected.
   */
  resume?: CaseResume;
  /**
   * The state a run carried into this one when its history neared Temporal's limits and it
   * continued as new (workflows/continuation.ts). Absent on every start and retry.
   */
  continued?: CaseContinuation;
  /**
   * Tests only: lower thresholds for continuing as new (the production ones are
   * CONTINUE_AS_NEW_AT_EVENTS / _BYTES / _UPDATES in workflows/continuation.ts; `updates`, the
   * Updates this run has accepted, defaults to the production one). Never set by the API.
   */
  historyLimits?: { events: number; bytes: number; updates?: number };
}

/**
 * What one run of a case hands the next when it continues as new at a top-level step boundary or
 * inside a `parallel` step: where to go on, and what later steps, the projection and the case
 * clocks need. Small by design (nothing in flight): step results, counters, the case-level
 * clocks' state and, inside a parallel, each branch's waiting timer or open task.
 */
export interface CaseContinuation {
  /** This run's number: 2 for the first continuation. */
  run: number;
  stepId: string;
  revision: number;
  seq: number;
  visits: Record<string, number>;
  stepCount: number;
  steps: Record<string, Record<string, unknown>>;
  lastOutcome: string | null;
  lastForm: Record<string, unknown>;
  shuffles: number;
  pinnedVersions: Record<string, number> | null;
  rollCall: Record<string, unknown> | null;
  feedback: FeedbackWait | null;
  pausedSince: string | null;
  /** The metric accumulator's state (common/case-measures.ts). */
  measures: Record<string, unknown>;
  /** The case-level SLA clocks as they stood (`CarriedClock`, workflows/clocks.ts). */
  clocks: unknown[];
  /** The stopped task deadlines the case document lists, as they were last shown. */
  deadlines: DeadlineView[];
  /**
   * Photos whose `attachment.added` an earlier run recorded (the latest, at most
   * PHOTOS_CARRIED_ACROSS_RUNS), so a repeated `photoAttached` signal records nothing in this run
   * either. Absent when none was recorded, and from runs continued before it was carried.
   */
  photosRecorded?: string[];
  /**
   * Supervision slips opened so far (their task ids are numbered by it), so a slip of a later run
   * never takes an earlier one's id. Absent from runs continued before it was carried.
   */
  slips?: number;
  /**
   * Set when the run continued inside a `parallel` step (`stepId` is that step): each branch as
   * it waited (workflows/parallel-continuation.ts). Absent for a switch between top-level steps.
   */
  parallel?: CarriedParallel;
}

/** A `parallel` step's branches carried across a continue-as-new, in the step's branch order. */
export interface CarriedParallel {
  branches: CarriedBranch[];
}

/**
 * One branch at the switch: finished, waiting in a `timer` step until an absolute instant, or
 * waiting on an open `task` step's task (kept with its id, people, claim and deadlines).
 */
export type CarriedBranch =
  | { state: 'done' }
  | { state: 'timer'; stepId: string; dueAt: string; detail: Record<string, unknown> }
  | { state: 'task'; stepId: string; visit: number; task: CarriedTask };

/** An open task as its run left it: everything its Updates and its clocks read. */
export interface CarriedTask {
  id: string;
  status: TaskStatus;
  candidates: Candidate[];
  assignee: Candidate | null;
  claimants: Candidate[];
  unitId: string | null;
  openedAt: string;
  /** How often each account gave the task back (the release limit goes on counting). */
  releases: Record<string, number>;
  prefill: Record<string, unknown> | null;
  /** The version of its task document last written, so the next run's writes go on from it. */
  version: number;
  /** Its SLA clocks (`CarriedClock`, workflows/clocks.ts): absolute instants, nothing restarted. */
  clocks: unknown[];
}

/** Where a retried case picks up: its step, and the document's revision and last timeline seq. */
export interface CaseResume {
  stepId: string;
  revision: number;
  seq: number;
  /** Visits each step had in the failed run, so new task ids and mail keys do not collide. */
  visits: Record<string, number>;
  /** Who asked for the retry. */
  by: Actor;
}

export type TimelineEventType =
  | 'case.started'
  | 'step.entered'
  | 'step.completed'
  | 'notification.sent'
  | 'notification.failed'
  | 'timer.fired'
  | 'decision.taken'
  | 'task.opened'
  | 'task.unstaffed'
  /** A requester task went to its `otherwise` people: the requester has no account (reason). */
  | 'task.requester-unreachable'
  /** Someone stands in for an absent candidate (AB岗): ids and how (named, the post's B-holder). */
  | 'task.stand-in'
  /** The dispatch catalogue (派单目录) named the unit of a task, or had no entry (兜底 went on). */
  | 'catalogue.routed'
  | 'catalogue.unmatched'
  /** A 非本部门职责 answer went to the centre's arbitration (兜底仲裁): a step marked `arbitration`. */
  | 'case.arbitrated'
  | 'task.claimed'
  | 'task.released'
  | 'task.completed'
  | 'task.returned'
  | 'task.reassigned'
  | 'task.cancelled'
  | 'claim.closed'
  /** A supervision slip (督办单) opened, passed its own deadline, was replied to, or closed moot. */
  | 'supervision.opened'
  | 'supervision.overdue'
  | 'supervision.replied'
  | 'supervision.moot'
  | 'deadline.reminded'
  | 'deadline.missed'
  | 'deadline.escalated'
  | 'deadline.unresolved'
  | 'clock.paused'
  | 'clock.resumed'
  | 'feedback.rated'
  | 'feedback.missing'
  | 'case.published'
  | 'subprocess.started'
  | 'subprocess.ended'
  /** A fan-out over the org tree found more units than one step may start cases for. */
  | 'subprocess.refused'
  /** An evaluation round (评单评议) opened, took a scorer's scores, closed, or found too many orders. */
  | 'evaluation.opened'
  | 'evaluation.scored'
  | 'evaluation.closed'
  | 'evaluation.refused'
  /**
   * A recurrence analysis (未诉先办) counted the period's requests (its groups, the proactive cases
   * it opened and those a run before it had opened), or refused a period too large.
   */
  | 'recurrence.analysed'
  | 'recurrence.refused'
  /** A department assessment (条块考核) computed its figures, recorded its results, or refused. */
  | 'assessment.computed'
  | 'assessment.recorded'
  | 'assessment.refused'
  /** A lookup (读取登记数据) read its source (counts only), or refused (too many, no year). */
  | 'lookup.read'
  | 'lookup.refused'
  /**
   * A grant gave a person a post in the org data (ids only: person, unit, post, whether the
   * person is new), or refused (no such unit, person or post).
   */
  | 'org.granted'
  | 'org.refused'
  /** The case run failed (an error escaped the steps, or the execution ended unclosed). */
  | 'case.failed'
  /** An administrator cancelled the case, or its execution was cancelled. */
  | 'case.cancelled'
  /** An administrator retried a failed case from a step. */
  | 'case.retried'
  | 'case.closed'
  /** A task was completed with a location check-in (签到): distance and limit, never the position. */
  | 'task.checked-in'
  /** A photo was attached to the case or one of its tasks: its id (and the task's), never bytes. */
  | 'attachment.added';

export interface TimelineEntry {
  /** Position in the case's timeline, 1-based; with the case id it identifies the entry. */
  seq: number;
  type: TimelineEventType;
  at: string;
  actor: Actor;
  stepId?: string;
  /** Where the action came from (`api`, `console`, `engine`). */
  via?: string;
  /** Small structured detail (a template name, an outcome); never personal data. */
  detail?: Record<string, string | number | boolean | readonly string[]>;
}

export interface CurrentStep {
  id: string;
  name: string;
  type: string;
}

/**
 * A feedback step waiting for its rating. `raters`: who may give it when the step names them
 * (`from`, docs 6.8): the accounts of the people named, and whether the requester is one of them;
 * absent, the requester (or a dispatcher on their behalf) as always.
 */
export interface FeedbackWait {
  stepId: string;
  rating: RatingView | null;
  raters?: { userIds: string[]; requester: boolean };
}

/** Initial fields of the case document, written once with revision 1. */
export interface CaseOpening {
  definitionKey: string;
  definitionVersion: number;
  definitionName: string;
  data: Record<string, unknown>;
  createdBy: Actor;
  unitId?: string;
  category?: string;
  channel: string;
  requestHash: string;
  createdAt: string;
  parentCaseId?: string;
}

/**
 * One projection step of a case into its MongoDB document. Revision n applies only on top of
 * revision n-1, which makes the activity idempotent under retries and replays.
 */
export interface CaseProgress {
  caseId: string;
  revision: number;
  status: CaseStatus;
  currentStep: CurrentStep | null;
  events: TimelineEntry[];
  opening?: CaseOpening;
  closedAt?: string;
  /** A retried case opens again: its `closedAt` is cleared. */
  reopen?: true;
  /** Tasks changed since the last revision, each with its own version. */
  tasks?: TaskSnapshot[];
  /** The case's SLA clocks as they stand (replaces the stored list). */
  deadlines?: DeadlineView[];
  rating?: RatingView;
  /**
   * The accounts a feedback step with `from` invites to rate (they may then rate the case outside
   * their scope); [] when the step ends. Absent: unchanged.
   */
  raterUserIds?: string[];
  publication?: PublicationView;
  /** The case's metric figures, whole, when they changed (see common/case-measures.ts). */
  metrics?: CaseMetrics;
  /** Who served the case (common/case-served.ts), whole, when it changed. */
  servedBy?: ServedBy;
}

/**
 * Who served a case (接单/签收): the unit(s) and person(s) holding its acceptance step's task
 * (common/case-served.ts). Ids only: no names, no personal data.
 */
export interface ServedBy {
  unitIds: string[];
  personIds: string[];
}

/** A person who may act on a task: their person id, account (if any) and the unit they serve in. */
export interface Candidate {
  personId: string;
  userId: string | null;
  unitId: string;
  /** The absent person this one stands in for (AB岗, common/stand-ins.ts), when they do. */
  standingInFor?: string;
}

export type TaskStatus = 'open' | 'claimed' | 'completed' | 'returned' | 'cancelled' | 'unclaimed';

export interface DeadlineView {
  /** `<task id>/<deadline id>` or `case/<deadline id>`. */
  key: string;
  name: string;
  dueAt: string | null;
  paused: boolean;
  missed: boolean;
  stopped: boolean;
  escalationLevel: number;
  /**
   * Years the calendar lacks that the deadline crosses: counted as normal weeks (no holidays,
   * no 调休), so the due time may be wrong. Absent when the calendar had every year.
   */
  assumedYears?: number[];
}

/**
 * A deadline as cases and tasks show it, from its clock's state and plan: the plan's assumed
 * years (a calendar year missing, counted as a normal week) are carried, when there are any.
 */
export function deadlineViewOf(clock: {
  key: string;
  name: string;
  /** Its plan (common/sla.ts `DeadlinePlan`), null before the first. */
  plan: { dueAt: string | null; assumedYears?: readonly number[] } | null;
  paused: boolean;
  missed: boolean;
  stopped: boolean;
  escalationLevel: number;
}): DeadlineView {
  const assumedYears = clock.plan?.assumedYears ?? [];
  return {
    key: clock.key,
    name: clock.name,
    dueAt: clock.plan?.dueAt ?? null,
    paused: clock.paused,
    missed: clock.missed,
    stopped: clock.stopped,
    escalationLevel: clock.escalationLevel,
    ...(assumedYears.length > 0 ? { assumedYears: [...assumedYears] } : {}),
  };
}

/** A task as the read model stores it; `version` orders the writes of one task. */
export interface TaskSnapshot {
  id: string;
  version: number;
  caseId: string;
  definitionKey: string;
  caseUnitId: string | null;
  stepId: string;
  name: string;
  /** `supervision`: a 督办单 an escalation level opened (workflows/supervision.ts). */
  kind: 'task' | 'claim' | 'supervision';
  status: TaskStatus;
  candidates: Candidate[];
  assignee: Candidate | null;
  claimants: Candidate[];
  maxClaimants: number;
  outcomes: Array<{ id: string; name: string; requiresComment: boolean }>;
  outcome: string | null;
  deadlines: DeadlineView[];
  openedAt: string;
  closedAt: string | null;
  /**
   * A roster roll-call (its people are in the roster collection, not here): its figures. Its
   * `candidates` and `claimants` are then empty in the snapshot and not written from it.
   */
  roster?: RosterFigures;
  /** A supervision slip's facts (kind `supervision` only). */
  supervision?: SupervisionFacts;
  /** The check-in (签到) the task was completed with, when its step asks for one. */
  checkIn?: CheckInRecord;
  /**
   * The form as its fields' defaults prefill it (预填, lang/case-data.ts formPrefill), computed as
   * the task opened: what the person completing it sees first and corrects. Absent without one.
   */
  prefill?: Record<string, unknown>;
}

/** A 督办单: its level, what opened it, whether its own deadline passed, and its reply. */
export interface SupervisionFacts {
  level: 'yellow' | 'red';
  /** The deadline whose escalation opened it, and that escalation's level (1-based). */
  deadline: string;
  escalation: number;
  overdue: boolean;
  reply: string | null;
}

/** A roster roll-call's figures: `expected` from its opening, the rest once it closed. */
export interface RosterFigures {
  expected: number;
  acknowledged?: number;
  missing?: number;
}

export interface RatingView {
  /** 1–5, or null when the requester did not rate in time (never a default score). */
  score: number | null;
  comment: string | null;
  at: string;
}

export interface PublicationView {
  title: string;
  outcome: string | null;
  fields: Array<{ label: string; value: string }>;
  publishedAt: string;
}

/** Who acts through an Update: the API passes the authenticated principal, ids only. */
export interface ActingPrincipal {
  /** `person` only in type: a verified person (a quick report) starts cases and acts on none. */
  kind: 'user' | 'apiKey' | 'person';
  id: string;
  roles: Role[];
  via: string;
}

export interface ClaimTaskRequest {
  taskId: string;
  actor: ActingPrincipal;
}
export interface CompleteTaskRequest {
  taskId: string;
  actor: ActingPrincipal;
  outcome: string;
  form: Record<string, unknown>;
  comment?: string;
  /** A location check-in (签到), checked and measured by the API service (services/check-in.ts). */
  checkIn?: CheckInRecord;
}

/**
 * A location check-in as recorded: the position the phone gave (WGS-84), its accuracy radius and
 * time, and how it stands against the case's place (the nearest unit up the tree with a
 * location): the distance, the step's limit and whether it lay within. Coordinates live on the
 * task document and in the (encrypted) history only; the timeline carries the judgement.
 */
export interface CheckInRecord {
  lat: number;
  lng: number;
  /** Metres (the browser's `coords.accuracy`), rounded. */
  accuracy: number;
  /** When the phone took the fix. */
  at: string;
  /** The unit whose location it was measured against; null when no unit up the tree has one. */
  placeUnitId: string | null;
  /** Whole metres to that place; null without a place. */
  distance: number | null;
  /** The step's limit in metres; null without one. */
  limit: number | null;
  /** Whether the distance is within the limit; null without a limit or a place. */
  within: boolean | null;
}
export interface ReturnTaskRequest {
  taskId: string;
  actor: ActingPrincipal;
  reason: string;
}
export interface ReassignTaskRequest {
  taskId: string;
  actor: ActingPrincipal;
  /** Resolved by the API from the org data; the workflow cannot read the database. */
  to: Candidate;
  reason?: string;
}
export interface RateCaseRequest {
  actor: ActingPrincipal;
  score: number;
  comment?: string;
}
export interface ClockRequest {
  actor: ActingPrincipal;
  reason?: string;
}

/** Names of the case workflow's Updates and Signals, shared by the API and the interpreter. */
export const CASE_UPDATES = {
  claim: 'claimTask',
  release: 'releaseTask',
  complete: 'completeTask',
  return: 'returnTask',
  reassign: 'reassignTask',
  rate: 'rateCase',
  pause: 'pauseClock',
  resume: 'resumeClock',
} as const;
export const CALENDAR_CHANGED_SIGNAL = 'calendarChanged';
/**
 * Sent by the acknowledging service when a roster roll-call's count reached its expected figure:
 * the workflow checks the figures and closes the roll-call. Harmless when repeated or stale.
 */
export const ROLL_CALL_MAYBE_FULL_SIGNAL = 'rollCallMaybeFull';

/**
 * Sent by the attachment service once a photo is stored (services/attachments.ts): the workflow
 * records `attachment.added` with the ids, once per attachment however often the signal comes.
 */
export const PHOTO_ATTACHED_SIGNAL = 'photoAttached';

export interface PhotoAttached {
  attachmentId: string;
  /** The task it was attached from, and that task's step; null when attached to the case. */
  taskId: string | null;
  stepId: string | null;
  /** Who attached it. */
  actor: Actor;
}

/**
 * Error types an Update validator rejects with; the API maps them to HTTP statuses
 * (404, 403, 409, 422).
 */
export const REJECTION = {
  notFound: 'NotFound',
  forbidden: 'Forbidden',
  conflict: 'Conflict',
  invalid: 'Invalid',
} as const;

export interface NotificationRequest {
  /** Business key: the same key is sent at most once (case, step, kind, recipient slot). */
  businessKey: string;
  caseId: string;
  template: string;
  /**
   * An address from case data, a person whose address the activity looks up, or a unit whose
   * group robot gets one post (`groupRobot: true` in the definition).
   */
  to: string | { personId: string } | { unitId: string };
  context: Record<string, unknown>;
  /**
   * The channels to try for a person, in order (the definition's `channels`); absent: the
   * person's preferences, then mail (activities/channels.ts). Absent in every history recorded
   * before channels, and in every definition that does not name them.
   */
  channels?: ChannelChoice[];
  /**
   * Context keys to fill with a person's name, looked up by id when the mail is sent. When
   * `assigneeName` names the recipient, the context also gets `recipientIsAssignee: true`.
   */
  names?: Record<string, string>;
  /** Context keys to fill with a list of names (a roll-call's missing), looked up by id. */
  nameLists?: Record<string, string[]>;
}

export interface NotificationResult {
  /**
   * `queued`: in the outbox, delivered by the dispatcher with retries (histories recorded before
   * the outbox dispatcher say `sent`: delivered by the activity itself). `no-address`: the person
   * has no mail address on file; nothing is sent.
   */
  status: 'queued' | 'sent' | 'already-sent' | 'no-address';
  messageId: string | null;
}

/** What a people selector resolved to: who, in which unit, and whether it fell back upwards. */
export interface ResolvedPeople {
  people: Candidate[];
  unitId: string | null;
  unitName: string | null;
  fellBack: boolean;
  /**
   * Every unit the selectors reached, in order, when several were resolved together (a level
   * naming posts in two units); `unitId`/`unitName` stay the first.
   */
  units?: Array<{ unitId: string; unitName: string | null }>;
  /** Where the dispatch catalogue routed, when a selector went by it (the first such). */
  catalogue?: CatalogueRouting;
  /** People chosen in place of absent ones (ids only), when any were. */
  standIns?: Array<{ personId: string; for: string; via: 'absence' | 'b-post' }>;
  /** An `onDuty` selector found nobody rostered and took the post holders instead. */
  offDuty?: boolean;
  /**
   * A `requester` selector (lang/definition.ts): `reached` when the task went to the requester's
   * account, else why it went to `otherwise` instead (兜底): the case came by API key (Open311),
   * from a person without a sign-in account (a quick report), from the system (a schedule, a
   * parent case), or the account is gone or disabled.
   */
  requester?: RequesterReach;
}

export type RequesterReach = 'reached' | 'api-key' | 'no-account' | 'system' | 'account-disabled';

/**
 * What one case counts for in the metrics, as numbers on its document (flags 0 or 1, durations in
 * whole minutes), computed from its timeline by common/case-measures.ts. Which step
 * is the acceptance, which deadline the 办结时限 and which outcomes are 解决/解释说明/不予受理 come
 * from the definition's `measures` block (common/case-measures.ts gives the defaults without it).
 * An excluded case (不予受理) keeps only `received`, `excluded`, `rejected` and `month`.
 */
export interface CaseMetrics {
  /** Always 1: the case was received. */
  received: number;
  /** 派单: a task of the acceptance step opened (every received case without a declared one). */
  dispatched: number;
  /** 接单: the handler took the acceptance step's task (claimed or completed it). */
  accepted: number;
  /** 响应及时: accepted before the acceptance deadline (any of its deadlines by default) passed. */
  respondedInTime: number;
  /** 办结: closed `closed` with a resolved or explained outcome (any `closed` end by default). */
  completed: number;
  /** 按期办结: completed before its 办结时限 passed (intermediate deadlines do not count). */
  completedOnTime: number;
  /** 解决: completed with a resolved outcome (every completed case by default). */
  resolved: number;
  /** 解释说明: completed with an explained outcome (办结, not 解决). */
  explained: number;
  /** 不予受理: left every denominator (a declared outcome or end; by default a `rejected` end). */
  excluded: number;
  /** Counts against 办结率: completed, or its 办结时限 passed (a case within its limit does not). */
  due: number;
  /** Closed as rejected (e.g. a task refused against the admission list). */
  rejected: number;
  /** At least one deadline passed: 超时. */
  overdue: number;
  /** At least one escalation level reached somebody: 督办. */
  escalated: number;
  /** Escalation levels fired, all deadlines together. */
  escalations: number;
  /** Tasks sent back (退单). */
  returned: number;
  /** At least one task sent back: the case counts for 退单率. */
  returnedCase: number;
  /** A feedback step asked for a rating: 参评率's denominator. */
  ratingInvited: number;
  /** A rating was recorded, by the requester or a dispatcher on their behalf: 参评, 回访. */
  /** A 非本部门职责 answer went to the centre's arbitration (兜底仲裁) at least once. */
  arbitrated: number;
  rated: number;
  /** The score given (1–5), 0 when none. */
  ratingScore: number;
  /** Rated 4 or 5: 满意. */
  satisfied: number;
  /** The feedback window passed without a rating (never counted as a score). */
  ratingMissing: number;
  /** Minutes from receipt to acceptance; 0 until accepted. */
  responseMinutes: number;
  /** Minutes from receipt to completion (the resolved/explained outcome); 0 until completed. */
  handlingMinutes: number;
  /** Disputes found (矛盾纠纷排查数), from the definition's `measures.disputes.found`. */
  disputesFound: number;
  /** Disputes resolved (化解数), from `measures.disputes.resolved`. */
  disputesResolved: number;
  /** The month it was received, Beijing time (`2026-05`): the key of a monthly trend. */
  month: string;
  /** A supervision slip (督办单) was opened on the case: 督办率. Absent on cases without one. */
  supervised?: number;
  /** An extension (延期) was granted: one of `measures.extended`. Absent on cases without one. */
  extended?: number;
}
