import { ActivityFailure, isCancellation, log, patched } from '@temporalio/workflow';
import type {
  Candidate,
  CaseWorkflowInput,
  FeedbackWait,
  RequesterReach,
  ResolvedPeople,
} from '../common/case';
import type {
  DefinitionSpec,
  EscalationSpec,
  PeopleSelector,
  RecipientSpec,
  UnitRef,
} from '../lang/definition';
import { evaluateValue } from '../lang/expression';
import { allSteps, withLanguageDefaults } from '../lang/steps';
import { localLookups, lookups, mail, rollCallMail } from './stubs';
import type {
  ResolvePeopleRequest,
  WireCatalogueRef,
  WireOnDutySelector,
  WireRoleSelector,
  WireUnitRef,
} from '../activities/lookups';
import type { RollCallMailRequest, RollCallMailResult } from '../activities/roll-calls';
import type { CriterionSpec } from '../common/evaluation';
import type { Clock } from './clocks';
import type { CaseProjection, CaseStateView, Detail } from './projection';
import { ENGINE } from './projection';
import type { MailArgs, MailTarget, TaskContext } from './recipients';
import { groupRobotUnits } from './recipients';
import type { TaskRuntime } from './task-runtime';
import type { DisputeFigures } from './disputes';
import type { ChildResult } from './child-results';
import type { RollCallFigures } from './roll-call';
import { unacknowledged } from './roll-call';
import {
  applies,
  appliesSince2026_11,
  BATCHED_NOTIFICATIONS,
  CHANGES,
  CHANGES_SINCE_2026_11,
} from './patches';
import { openSlip, opensSlip } from './supervision';

/** What a case workflow returns: its state, and the figures of a roll-call it ran. */
export type CaseWorkflowResult = CaseStateView & {
  rollCall?: RollCallFigures;
  disputes?: DisputeFigures;
} & Partial<ChildResult>;

/** What a finished step left for later conditions: `steps.<id>.outcome`, `.form`, `.rating`… */
export interface StepResult {
  outcome?: string | null;
  form?: Record<string, unknown>;
  comment?: string | null;
  by?: string | null;
  claimants?: string[];
  /** A claim pool's claimants' units, each once, in claiming order. */
  claimantUnits?: string[];
  /** A roll-call's figures (counts), and the candidates who did not claim (person ids). */
  expected?: number;
  acknowledged?: number;
  /** A roll-call's or an evaluation's count; a `secretary-record` lookup's list of what no record holds. */
  missing?: number | string[];
  unacknowledged?: string[];
  rating?: number | null;
  /** A feedback step's visit number: how often it has run. */
  visits?: number;
  status?: string;
  caseId?: string;
  /** An evaluation's orders or an assessment's departments, those scored, those vetoed. */
  count?: number;
  scored?: number;
  vetoed?: number;
  /** A repeat step: the iteration (1 = the first) running or last run, and its date (or null). */
  index?: number;
  item?: unknown;
  /**
   * A repeat step's finished iterations by their number ('1' = the first: the expression language
   * reads a quoted name, `iterations['2']`), each with what its block's steps left.
   */
  iterations?: Record<string, { index: number; item: unknown; steps: Record<string, StepResult> }>;
  /** A grant: who holds the post now, in which unit, and whether the grant recorded them anew. */
  personId?: string;
  unitId?: string;
  post?: string;
  created?: boolean;
  /** A grant with `account: requester`: what became of the link (GrantAccountLink), else null. */
  account?: string | null;
}

/** An evaluation round while its step runs (workflows/steps/evaluation.ts); the Update validator reads it. */
export interface EvaluationRun {
  stepId: string;
  criteria: readonly CriterionSpec[];
  groups: readonly string[];
  closesAtMs: number;
  closed: boolean;
  /** Score Updates whose write is still in flight: the results wait for them. */
  pending: number;
  /**
   * Scores are written by the API into MongoDB, not sent as Updates (the Update is refused):
   * the round's history stays the same size whatever the number of scores.
   */
  viaApi: boolean;
}

/**
 * A step of a `parallel` branch waiting where the case may continue as new: a timer until its
 * due instant (with the `timer.fired` detail it will record), or a task step's open task.
 */
export type ParkedStep =
  | { kind: 'timer'; stepId: string; dueAt: string; detail: Detail }
  | { kind: 'task'; stepId: string; visit: number; task: TaskRuntime };

/**
 * Everything one case run shares between its steps, clocks and Update handlers. Pure state plus
 * helpers that call activities; the interpreter in case-workflow.ts drives it. Its clocks and
 * tasks know it only as a `ClockHost` / `TaskHost`, so imports run one way: run -> clocks, tasks.
 */
/**
 * Recipients one mail step sends to one activity at a time, as it always did (chosen): a longer
 * list goes to the outbox in slices of {@link MAILS_PER_SLICE} (chosen), all slices at once.
 */
const MAILS_ONE_BY_ONE = 20;
const MAILS_PER_SLICE = 500;

/**
 * Photo ids a run hands the next when the case continues as new (chosen: 40, twice
 * MAX_PHOTOS_PER_CASE in lang/definition.ts, not imported: it would bring zod into the workflow
 * bundle; two uploads at one instant may each pass the per-case count): every photo a case can
 * carry, ~30 characters each, so at most ~1.2 KB of input.
 */
export const PHOTOS_CARRIED_ACROSS_RUNS = 40;

export class CaseRun {
  readonly spec: DefinitionSpec;
  readonly steps: Record<string, StepResult> = {};
  lastOutcome: string | null = null;
  lastForm: Record<string, unknown> = {};
  /** Open and finished tasks of this run, by task id (Update handlers look them up here). */
  readonly tasks = new Map<string, TaskRuntime>();
  /** Every SLA clock started so far, case and task deadlines alike. */
  readonly clocks: Clock[] = [];
  /** When the case started waiting on the requester, while it does. */
  pausedSince: string | null = null;
  /** The feedback step waiting for a rating, if any. */
  feedback: FeedbackWait | null = null;
  /** The evaluation round open in this case, if any (workflows/steps/evaluation.ts). */
  evaluation: EvaluationRun | null = null;
  /**
   * The department assessment under review, if any (workflows/steps/assessment.ts): the review
   * task's completion may veto only these departments, each with its reason.
   */
  assessment: { stepId: string; departments: readonly string[] } | null = null;
  /** The figures of the last roll-call this case ran, returned with its result to a parent. */
  rollCall: RollCallFigures | null = null;
  /** The disputes found and resolved (a dispute process, as it closed), returned to a parent. */
  disputes: DisputeFigures | null = null;
  /** The outcome and result values (the definition's `result`) handed to a parent as it closed. */
  handed: ChildResult | null = null;
  /** Roster roll-calls whose count the acknowledging service says reached the expected figure. */
  readonly rosterMaybeFull = new Set<string>();
  /** Photos whose `attachment.added` this run recorded: a repeated signal records nothing. */
  readonly photosRecorded = new Set<string>();
  /** Photos whose `attachment.added` an earlier run of the case recorded (carried across runs). */
  readonly photosRecordedBefore: ReadonlySet<string>;
  closed = false;
  /**
   * Claims, releases, reassignments, returns to the pool, pauses and resumptions accepted in the
   * case's every run (./action-budget.ts): carried across continue-as-new.
   */
  shuffles = 0;
  /**
   * Updates this run has accepted (every handler that ran; a validator's refusal is not counted).
   * Never carried: Temporal's cap of 2,000 Updates is per run, and a run continued as new starts
   * at 0 (./continuation.ts switches once it passes CONTINUE_AS_NEW_AT_UPDATES).
   */
  updatesAccepted = 0;
  /** Supervision slips opened so far (numbers their task ids). */
  slips = 0;
  /** The sub-process versions pinned when the case started, by key (absent before the change). */
  pinnedVersions: Record<string, number> | null = null;
  /** The case-level SLA clocks (set by the interpreter; carried as they stand at a switch). */
  caseClocks: readonly Clock[] = [];
  /**
   * Steps of `parallel` branches waiting where a continue-as-new may carry them, by step id
   * (./parallel-continuation.ts): a timer sleeping, a task waiting for its people.
   */
  readonly parked = new Map<string, ParkedStep>();
  /** Counts parks and unparks: a switch refused waits for the branches to move. */
  parkChanges = 0;
  private readonly visits = new Map<string, number>();
  private stepCount = 0;

  constructor(
    readonly input: CaseWorkflowInput,
    readonly projection: CaseProjection,
  ) {
    this.spec = withLanguageDefaults(input.definition.spec);
    this.photosRecordedBefore = new Set(input.continued?.photosRecorded ?? []);
    // A retried case goes on counting visits where its failed run stopped: task ids and mail
    // keys of the new visits differ from the old ones.
    for (const [stepId, count] of Object.entries(input.resume?.visits ?? {})) {
      this.visits.set(stepId, count);
    }
    // A run continued as new goes on from the state its previous run carried (./continuation.ts).
    const carried = input.continued;
    if (carried) {
      for (const [stepId, count] of Object.entries(carried.visits)) this.visits.set(stepId, count);
      this.stepCount = carried.stepCount;
      Object.assign(this.steps, carried.steps as Record<string, StepResult>);
      this.lastOutcome = carried.lastOutcome;
      this.lastForm = carried.lastForm;
      this.shuffles = carried.shuffles;
      this.pinnedVersions = carried.pinnedVersions;
      this.rollCall = carried.rollCall as RollCallFigures | null;
      this.feedback = carried.feedback;
      this.pausedSince = carried.pausedSince;
      this.slips = carried.slips ?? 0;
    }
  }

  /**
   * The photos recorded on the timeline so far, for the next run: the latest
   * {@link PHOTOS_CARRIED_ACROSS_RUNS}, oldest first (a Set keeps insertion order).
   */
  photosToCarry(): string[] {
    const all = new Set([...this.photosRecordedBefore, ...this.photosRecorded]);
    return [...all].slice(-PHOTOS_CARRIED_ACROSS_RUNS);
  }

  /** A branch's step waits where it could be carried (no command: plain bookkeeping). */
  park(parked: ParkedStep): void {
    this.parked.set(parked.stepId, parked);
    this.parkChanges++;
  }

  /** The step waits no longer (its timer fired, its task is done, its branch was cancelled). */
  unpark(stepId: string): void {
    if (this.parked.delete(stepId)) this.parkChanges++;
  }

  /** The visit counters, for the next run when the case continues as new. */
  countersToCarry(): { visits: Record<string, number>; stepCount: number } {
    return { visits: Object.fromEntries(this.visits), stepCount: this.stepCount };
  }

  get caseId(): string {
    return this.input.caseId;
  }

  get caseUnitId(): string | null {
    return this.input.unitId ?? null;
  }

  /** Figures a step leaves on its `step.completed` entry (a fan-out's roll-call totals). */
  private readonly stepSummaries = new Map<string, Detail>();

  summarizeStep(stepId: string, summary: Detail): void {
    this.stepSummaries.set(stepId, summary);
  }

  /** The figures for a step's `step.completed` entry, once; undefined for almost every step. */
  takeStepSummary(stepId: string): Detail | undefined {
    const summary = this.stepSummaries.get(stepId);
    this.stepSummaries.delete(stepId);
    return summary;
  }

  /** Counts a visit to a step; the visit number keeps ids and mail keys of loops apart. */
  visit(stepId: string, limit: number): number {
    if (++this.stepCount > limit) {
      throw new DefinitionLoopError(limit);
    }
    const visit = (this.visits.get(stepId) ?? 0) + 1;
    this.visits.set(stepId, visit);
    return visit;
  }

  /**
   * Starts an SLA clock; one started while the case waits on the requester starts paused: from
   * its start, or from the pause when that came while its first plan was being made.
   */
  startClock(clock: Clock): Promise<void> {
    if (this.pausedSince !== null && clock.spec.pausable) {
      const since = this.pausedSince;
      clock.pause(clock.startedAt > since ? clock.startedAt : since);
      clock.plan = null; // planned before the pause was known: plan again
    }
    this.clocks.push(clock);
    this.projection.deadlinesChangedNow();
    return clock.run(this);
  }

  /** The names conditions see: `data`, `form`, `outcome`, `steps`, `case`. */
  expressionScope(): Record<string, unknown> {
    return {
      data: this.input.data,
      form: this.lastForm,
      outcome: this.lastOutcome,
      steps: this.steps,
      case: {
        id: this.caseId,
        unitId: this.caseUnitId,
        channel: this.input.channel,
        definition: this.input.definition.key,
        receivedAt: this.input.receivedAt,
      },
    };
  }

  /**
   * The people lookup: a local activity for cases started since it became one, a scheduled one
   * for cases that recorded it so (their histories must replay as recorded).
   */
  private peopleLookup(): typeof lookups.resolvePeople {
    return applies(CHANGES.localPeopleLookup) ? localLookups.resolvePeople : lookups.resolvePeople;
  }

  /**
   * One people lookup at a time, in turn with the projection's local writes (see
   * CaseProjection.inLocalTurn): local activities resolve in schedule order on replay.
   */
  private lookupPeople(
    request: Parameters<typeof lookups.resolvePeople>[0],
  ): Promise<ResolvedPeople> {
    const lookup = this.peopleLookup();
    if (!applies(CHANGES.serialPeopleLookups)) return lookup(request);
    return this.projection.inLocalTurn(() => lookup(request));
  }

  /** A unit reference for a lookup: a unit given by an expression is evaluated here. */
  wireUnitRef(ref: UnitRef): WireUnitRef {
    if (typeof ref === 'object' && typeof ref.of === 'object' && 'expression' in ref.of) {
      const value = evaluateValue(ref.of.expression, this.expressionScope());
      return { of: { unit: typeof value === 'string' && value !== '' ? value : null }, at: ref.at };
    }
    return ref as WireUnitRef;
  }

  /** A role selector for the lookup (see {@link wireUnitRef}). */
  private wireSelector(
    selector: Exclude<
      PeopleSelector,
      { expression: string } | { claimantsOf: string } | { requester: true }
    >,
  ): WireRoleSelector | { person: string } | WireOnDutySelector {
    if ('person' in selector) return selector;
    if ('onDuty' in selector) {
      const { onDuty, role } = selector;
      return { onDuty: this.wireUnitRef(onDuty), ...(role !== undefined ? { role } : {}) };
    }
    if ('pairedWith' in selector) {
      return { ...selector, pairedWith: this.wireUnitRef(selector.pairedWith) };
    }
    if ('chain' in selector) return { ...selector, under: this.wireUnitRef(selector.under) };
    if ('unit' in selector && typeof selector.unit === 'object' && 'catalogue' in selector.unit) {
      const { catalogue, otherwise } = selector.unit;
      const category = evaluateValue(catalogue, this.expressionScope());
      const ref: WireCatalogueRef = {
        catalogue: { category: typeof category === 'string' && category !== '' ? category : null },
      };
      if (otherwise !== undefined) {
        ref.otherwise =
          typeof otherwise === 'object' && 'role' in otherwise
            ? { role: otherwise.role, unit: this.wireUnitRef(otherwise.unit) }
            : this.wireUnitRef(otherwise);
      }
      return { role: selector.role, unit: ref };
    }
    const wire = this.wireUnitRef('unit' in selector ? (selector.unit as UnitRef) : selector.under);
    return 'unit' in selector ? { ...selector, unit: wire } : { ...selector, under: wire };
  }

  /** The lookup a people selector means now: expressions and claimants evaluated here. */
  wireRequest(selector: PeopleSelector, task: TaskContext | null): ResolvePeopleRequest {
    if ('requester' in selector) {
      // Only `resolvePeople` reaches the requester (the checker keeps the selector out of every
      // other list); anywhere else it means the 兜底 people.
      return this.wireRequest(
        { role: selector.otherwise.role, unit: selector.otherwise.unit },
        task,
      );
    }
    if ('claimantsOf' in selector) {
      const ids = this.steps[selector.claimantsOf]?.claimants ?? [];
      return { persons: ids, caseUnitId: this.caseUnitId };
    }
    if ('expression' in selector) {
      const value = evaluateValue(selector.expression, this.expressionScope());
      const ids = (Array.isArray(value) ? value : [value]).filter(
        (v): v is string => typeof v === 'string' && v.length > 0,
      );
      return { persons: ids, caseUnitId: this.caseUnitId };
    }
    return {
      selector: this.wireSelector(selector),
      caseUnitId: this.caseUnitId,
      assigneeUnitId: task?.assignee?.unitId ?? task?.unitId ?? null,
      data: this.input.data,
      // The moment of selection, so absences and duty rotas apply as of the workflow's time (the
      // lookup is recorded, replay reads its answer); cases recorded before send none.
      ...(appliesSince2026_11(CHANGES_SINCE_2026_11.availabilityAtSelection)
        ? { at: new Date().toISOString() }
        : {}),
    };
  }

  /** Resolves people selectors; expressions and claimants are resolved here, the rest by the org data. */
  async resolvePeople(
    selectors: readonly PeopleSelector[],
    task: TaskContext | null,
  ): Promise<ResolvedPeople> {
    const people: Candidate[] = [];
    let unitId: string | null = null;
    let unitName: string | null = null;
    let fellBack = false;
    let catalogue: ResolvedPeople['catalogue'];
    const standIns: NonNullable<ResolvedPeople['standIns']> = [];
    let offDuty = false;
    const units: Array<{ unitId: string; unitName: string | null }> = [];
    let requester: RequesterReach | undefined;
    for (const selector of selectors) {
      if ('requester' in selector && appliesSince2026_11(CHANGES_SINCE_2026_11.requesterTasks)) {
        requester = this.reachRequester();
        if (requester === 'reached') {
          const found = await this.lookupPeople({
            requester: this.input.startedBy as { kind: 'user' | 'person'; id: string },
            caseUnitId: this.caseUnitId,
          });
          requester = found.requester ?? 'account-disabled';
          if (requester === 'reached') {
            people.push(...found.people);
            unitId ??= this.caseUnitId;
            continue;
          }
        }
      }
      const resolved = await this.lookupPeople(this.wireRequest(selector, task));
      standIns.push(...(resolved.standIns ?? []));
      offDuty ||= resolved.offDuty === true;
      for (const person of resolved.people) {
        if (!people.some((p) => p.personId === person.personId)) people.push(person);
      }
      unitId ??= resolved.unitId;
      unitName ??= resolved.unitName;
      if (resolved.unitId !== null && !units.some((u) => u.unitId === resolved.unitId)) {
        units.push({ unitId: resolved.unitId, unitName: resolved.unitName });
      }
      fellBack ||= resolved.fellBack;
      catalogue ??= resolved.catalogue;
    }
    return {
      people,
      unitId,
      unitName,
      fellBack,
      units,
      ...(catalogue ? { catalogue } : {}),
      ...(standIns.length > 0 ? { standIns } : {}),
      ...(offDuty ? { offDuty } : {}),
      ...(requester !== undefined ? { requester } : {}),
    };
  }

  /**
   * Whether the case's requester may have an account to offer a task to: a user's account or a
   * person who started it (a quick report; the lookup asks whether they have one); else why not.
   */
  private reachRequester(): RequesterReach {
    const { kind } = this.input.startedBy;
    if (kind === 'user' || kind === 'person') return 'reached';
    return kind === 'apiKey' ? 'api-key' : 'system';
  }

  /** Who a list of recipients means now: addresses from case data and resolved people. */
  async recipientsOf(
    recipients: readonly RecipientSpec[],
    task: TaskContext | null,
  ): Promise<{ targets: MailTarget[]; found: ResolvedPeople }> {
    const targets: MailTarget[] = [];
    const found: ResolvedPeople = { people: [], unitId: null, unitName: null, fellBack: false };
    const selectors: PeopleSelector[] = [];
    let addresses = 0;
    for (const recipient of recipients) {
      if (recipient === 'assignee') {
        // Before anyone claims the task, its candidates stand for the assignee.
        if (task?.assignee) found.people.push(task.assignee);
        else found.people.push(...(task?.candidates ?? []));
      } else if (recipient === 'candidates') {
        found.people.push(...(task?.candidates ?? []));
      } else if (recipient === 'unacknowledged') {
        found.people.push(...(task ? unacknowledged(task) : []));
      } else if ('address' in recipient) {
        // Each address its own key: the first keeps `address` (keys of earlier versions), the
        // next are `address-2`, `address-3`…, so a second address is never taken as sent.
        addresses += 1;
        targets.push({
          slot: addresses === 1 ? 'address' : `address-${addresses}`,
          to: recipient.address,
        });
      } else if ('field' in recipient) {
        const value = this.input.data[recipient.field];
        if (typeof value === 'string' && value.length > 0) {
          targets.push({ slot: recipient.field, to: value });
        }
      } else {
        selectors.push(recipient);
      }
    }
    if (selectors.length > 0) {
      const resolved = await this.resolvePeople(selectors, task);
      found.people.push(...resolved.people);
      found.unitId = resolved.unitId;
      found.unitName = resolved.unitName;
      found.fellBack = resolved.fellBack;
      if (resolved.units) found.units = resolved.units;
    }
    const seen = new Set<string>();
    for (const person of found.people) {
      if (seen.has(person.personId)) continue;
      seen.add(person.personId);
      targets.push({ slot: person.personId, to: { personId: person.personId } });
    }
    return { targets, found };
  }

  /**
   * Mails each target once under `keyBase`: addresses from case data directly, people through
   * the outbox activity, which looks up their address so it never enters the workflow history.
   */
  async deliver(
    targets: readonly MailTarget[],
    args: MailArgs,
    /** Where the targets were found: the units whose group robots `groupRobot` posts to. */
    found?: ResolvedPeople,
  ): Promise<void> {
    if (args.groupRobot) await this.postToGroupRobots(args, found);
    if (targets.length === 0) {
      this.projection.record('notification.failed', ENGINE, args.stepId, {
        template: args.template,
        reason: 'no-recipient',
      });
    }
    const keyOf = (target: MailTarget) =>
      // A single recipient keeps the bare key (as mails of earlier versions did), so an upgrade
      // never sends a mail again under a new key.
      targets.length === 1 ? args.keyBase : `${args.keyBase}:${target.slot}`;
    // Only a long list asks about the change, so cases with short ones replay with no marker.
    if (targets.length > MAILS_ONE_BY_ONE && patched(BATCHED_NOTIFICATIONS)) {
      await this.deliverInSlices(targets, args, keyOf);
      return;
    }
    for (const target of targets) await this.sendOne(keyOf(target), args, target.to);
  }

  /**
   * One post to the group robot of each unit the recipients were found in, or of the case's unit
   * when they came with none (`groupRobot: true`; new definition syntax, so no patch marker).
   */
  private async postToGroupRobots(args: MailArgs, found?: ResolvedPeople): Promise<void> {
    for (const unitId of groupRobotUnits(found, this.caseUnitId)) {
      await this.sendOne(`${args.keyBase}:robot:${unitId}`, args, { unitId });
    }
  }

  /**
   * A long recipient list (an announcement to a compound, a county's roll-call) goes to the
   * outbox in slices of {@link MAILS_PER_SLICE}, every slice at once, one activity each; the
   * timeline gets one entry per slice with its counts instead of one per person.
   */
  private async deliverInSlices(
    targets: readonly MailTarget[],
    args: MailArgs,
    keyOf: (target: MailTarget) => string,
  ): Promise<void> {
    const slices: MailTarget[][] = [];
    for (let at = 0; at < targets.length; at += MAILS_PER_SLICE) {
      slices.push(targets.slice(at, at + MAILS_PER_SLICE));
    }
    const results = await Promise.all(
      slices.map((slice) =>
        mail
          .enqueueNotifications({
            caseId: this.caseId,
            template: args.template,
            context: args.context,
            ...(args.names !== undefined ? { names: args.names } : {}),
            ...(args.nameLists !== undefined ? { nameLists: args.nameLists } : {}),
            ...(args.channels !== undefined ? { channels: args.channels } : {}),
            recipients: slice.map((target) => ({ businessKey: keyOf(target), to: target.to })),
          })
          .catch((err: unknown) => {
            if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
            log.warn('Notifications failed', { caseId: this.caseId, stepId: args.stepId });
            return null;
          }),
      ),
    );
    for (const [i, result] of results.entries()) {
      const detail: Detail = { template: args.template };
      if (result === null) {
        this.projection.record('notification.failed', ENGINE, args.stepId, {
          ...detail,
          reason: 'delivery-failed',
          recipients: slices[i]!.length,
        });
        continue;
      }
      if (result.queued > 0) {
        this.projection.record('notification.sent', ENGINE, args.stepId, {
          ...detail,
          status: 'queued',
          recipients: result.queued,
        });
      }
      if (result.noAddress > 0) {
        this.projection.record('notification.failed', ENGINE, args.stepId, {
          ...detail,
          reason: 'no-address',
          recipients: result.noAddress,
        });
      }
    }
  }

  async notify(
    args: MailArgs & { recipients: readonly RecipientSpec[]; task: TaskContext | null },
  ): Promise<ResolvedPeople> {
    const { targets, found } = await this.recipientsOf(args.recipients, args.task);
    await this.deliver(targets, args, found);
    return found;
  }

  /**
   * Mails a roster roll-call's people (and any further targets) from the roster, in one activity
   * (activities/roll-calls.ts): the history holds the counts it returns, one timeline entry each.
   */
  opensSlip(escalation: EscalationSpec): boolean {
    return opensSlip(escalation);
  }

  openSlip(
    clock: Clock,
    level: number,
    escalation: EscalationSpec,
    found: ResolvedPeople,
  ): Promise<void> {
    return openSlip(this, clock, level, escalation, found);
  }

  async mailRollCall(request: Omit<RollCallMailRequest, 'caseId'>, stepId: string): Promise<void> {
    const detail: Detail = { template: request.template };
    try {
      const result = await rollCallMail.mailRollCall({ ...request, caseId: this.caseId });
      this.recordRollCallMail(request.template, result, stepId);
    } catch (err) {
      if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
      log.warn('Roll-call notification failed', { caseId: this.caseId, stepId });
      this.projection.record('notification.failed', ENGINE, stepId, {
        ...detail,
        reason: 'delivery-failed',
      });
    }
  }

  /**
   * The timeline entries of a roll-call mail activity's result (`mailRollCall`, or the call a
   * roll-call's opening sent): one `notification.sent` with a count, and one
   * `notification.failed` per reason with its count.
   */
  recordRollCallMail(template: string, result: RollCallMailResult, stepId: string): void {
    const detail: Detail = { template };
    if (result.sent > 0) {
      this.projection.record('notification.sent', ENGINE, stepId, {
        ...detail,
        status: 'sent',
        count: result.sent,
      });
    }
    if (result.noAddress > 0) {
      this.projection.record('notification.failed', ENGINE, stepId, {
        ...detail,
        reason: 'no-address',
        count: result.noAddress,
      });
    }
    if (result.failed > 0) {
      this.projection.record('notification.failed', ENGINE, stepId, {
        ...detail,
        reason: 'delivery-failed',
        count: result.failed,
      });
    }
    if (result.sent + result.noAddress + result.failed === 0) {
      this.projection.record('notification.failed', ENGINE, stepId, {
        ...detail,
        reason: 'no-recipient',
      });
    }
  }

  /**
   * Puts one mail in the outbox and goes on: delivery (with retries until it expires) is the
   * worker's outbox dispatcher's, so no step waits for SMTP. `notification.sent` on the timeline
   * means "handed to the outbox" (`status: queued`; `sent` in cases recorded before the outbox
   * dispatcher). An enqueue that fails after every retry is recorded, not fatal.
   */
  async sendOne(
    businessKey: string,
    args: MailArgs,
    to: string | { personId: string } | { unitId: string },
  ): Promise<void> {
    const detail: Detail = { template: args.template };
    try {
      const result = await mail.sendNotification({
        businessKey,
        caseId: this.caseId,
        template: args.template,
        to,
        context: args.context,
        ...(args.names !== undefined ? { names: args.names } : {}),
        ...(args.nameLists !== undefined ? { nameLists: args.nameLists } : {}),
        ...(args.channels !== undefined && (typeof to === 'string' || !('unitId' in to))
          ? { channels: args.channels }
          : {}),
      });
      if (result.status === 'no-address') {
        this.projection.record('notification.failed', ENGINE, args.stepId, {
          ...detail,
          reason: 'no-address',
        });
      } else {
        this.projection.record('notification.sent', ENGINE, args.stepId, {
          ...detail,
          status: result.status,
        });
      }
    } catch (err) {
      if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
      log.warn('Notification failed', { caseId: this.caseId, stepId: args.stepId });
      await lookups.abandonNotification(businessKey);
      this.projection.record('notification.failed', ENGINE, args.stepId, {
        ...detail,
        reason: 'delivery-failed',
      });
    }
  }
}

export class DefinitionLoopError extends Error {
  constructor(readonly limit: number) {
    super(`Case ran more than ${limit} steps; the definition loops`);
    this.name = 'DefinitionLoopError';
  }
}

/** The name of the last task outcome, wherever the task sits (top level or a branch). */
export function outcomeName(run: CaseRun): string | null {
  if (run.lastOutcome === null) return null;
  const outcomes = allSteps(run.spec).flatMap(({ step }) =>
    step.type === 'task' ? step.outcomes : [],
  );
  return outcomes.find((o) => o.id === run.lastOutcome)?.name ?? run.lastOutcome;
}
