import { BEIJING_ISO_OFFSET } from '../lang/beijing';
import { condition } from '@temporalio/workflow';
import type { DeadlineView, ResolvedPeople, SupervisionFacts } from '../common/case';
import { deadlineViewOf } from '../common/case';
import type { DeadlineSpec, EscalationSpec, RecipientSpec } from '../lang/definition';
import { evaluateValue } from '../lang/expression';
import type { LevelledDeadlineSpec } from '../lang/ladder';
import { levelledDeadline } from '../lang/ladder';
import type { ClockPause, DeadlinePlan, DeadlinePolicy } from '../common/sla';
import { lookups } from './stubs';
import type { CaseProjection, Detail } from './projection';
import { ENGINE } from './projection';
import type { MailArgs, MailTarget, TaskContext } from './recipients';
import { asList, groupRobotUnits } from './recipients';
import { rollCallMailFacts } from './roll-call';
import type { RollCallMailRequest } from '../activities/roll-calls';
import {
  applies,
  appliesSince2026_11,
  CHANGES,
  CHANGES_SINCE_2026_11,
  firesLateRollCallEscalations,
} from './patches';

type ClockEvent =
  | { kind: 'reminder'; index: number; at: string }
  | { kind: 'missed'; at: string }
  | { kind: 'escalation'; level: number; at: string };

const EVENT_ORDER = { reminder: 0, missed: 1, escalation: 2 } as const;

/**
 * What a clock needs of the case it runs in: the case run (workflows/run.ts) is one. Named here
 * rather than imported, so the run can hold its clocks without the two importing each other.
 */
export interface ClockHost {
  readonly caseId: string;
  /** The case's unit: a case deadline counts working time in its hours (unit-working-hours). */
  readonly caseUnitId: string | null;
  readonly spec: { readonly name: string };
  readonly projection: CaseProjection;
  notify(
    args: MailArgs & { recipients: readonly RecipientSpec[]; task: TaskContext | null },
  ): Promise<ResolvedPeople>;
  recipientsOf(
    recipients: readonly RecipientSpec[],
    task: TaskContext | null,
  ): Promise<{ targets: MailTarget[]; found: ResolvedPeople }>;
  deliver(targets: readonly MailTarget[], args: MailArgs, found?: ResolvedPeople): Promise<void>;
  mailRollCall(request: Omit<RollCallMailRequest, 'caseId'>, stepId: string): Promise<void>;
  /** Whether a fired level opens a supervision slip (workflows/supervision.ts). */
  opensSlip(escalation: EscalationSpec): boolean;
  /** Opens the slip a fired level asks for; the clock's flush writes it. */
  openSlip(
    clock: Clock,
    level: number,
    escalation: EscalationSpec,
    found: ResolvedPeople,
  ): Promise<void>;
}

/** The recipients that mean a roll-call's own people (candidates, those missing). */
const ROSTER_RECIPIENTS: ReadonlySet<RecipientSpec> = new Set<RecipientSpec>([
  'candidates',
  'assignee',
  'unacknowledged',
]);

/**
 * A roster roll-call's recipients split: which of its roster (everyone, the missing, or none:
 * mailed from the roster by the activity) and the rest (resolved by the workflow, as always).
 */
function rosterSplit(recipients: readonly RecipientSpec[]): {
  roster: 'all' | 'unacknowledged' | null;
  others: RecipientSpec[];
} {
  const named = recipients.filter((r) => ROSTER_RECIPIENTS.has(r));
  const roster =
    named.length === 0
      ? null
      : named.every((r) => r === 'unacknowledged')
        ? 'unacknowledged'
        : 'all';
  return { roster, others: recipients.filter((r) => !ROSTER_RECIPIENTS.has(r)) };
}

/**
 * The group-robot posts (`groupRobot: true`) of a roster roll-call's reminder or escalation, as
 * targets of its mail activity (no activity of their own, so no new command): each unit the
 * other recipients were found in, and the roll-call's own unit when its people are named. Keyed
 * `<keyBase>:robot:<unit id>`, as every other notification's robot post.
 */
function rosterRobots(
  run: ClockHost,
  found: ResolvedPeople | undefined,
  roster: 'all' | 'unacknowledged' | null,
  task: TaskContext,
): RollCallMailRequest['targets'] {
  return groupRobotUnits(found, run.caseUnitId, roster !== null ? [task.unitId] : []).map(
    (unitId) => ({ slot: `robot:${unitId}`, to: { unitId } }),
  );
}

/** A case-level SLA clock carried across a continue-as-new: what it planned and has fired. */
export interface CarriedClock {
  key: string;
  spec: DeadlineSpec;
  startedAt: string;
  plan: DeadlinePlan | null;
  stopped: boolean;
  missed: boolean;
  level: number;
  pauses: ClockPause[];
  firedReminders: number[];
  firedLevels: number[];
  holdsWhilePaused: boolean;
  /** The unit whose working hours the clock counts in (absent: office hours, as before). */
  hoursUnitId?: string | null;
}

/**
 * One SLA deadline of a case or a task: its plan (absolute instants from the planning activity),
 * what has fired, and whether it stopped. The runner sleeps on cancellable timers until the next
 * instant; stopping the clock (the task was claimed or completed, the case ended) cancels them, so
 * no reminder or escalation goes out after the work is done.
 */
export class Clock {
  plan: DeadlinePlan | null = null;
  stopped = false;
  missed = false;
  level = 0;
  pauses: ClockPause[] = [];
  private planVersion = 0;
  /** Plans and firings under way (a clock mid-way is not carried to a next run). */
  private busy = 0;
  private requested = 0;
  /**
   * Counts changes to the pause list (cases since `CHANGES.pauseHoldsClock`); the plan in use
   * was made with `plannedHolds` of them. The clock holds (fires nothing) while it is paused or
   * while those two differ: the plan in use predates the latest pause or resumption.
   */
  private holds = 0;
  private plannedHolds = 0;
  private holdsWhilePaused = false;
  /**
   * The unit whose working hours this clock counts in, decided at its first plan: the task's
   * unit (where its people were found), else the case's; null for office hours (clocks first
   * planned before CHANGES_SINCE_2026_11.unitWorkingHours, so a re-plan never moves them into other hours).
   */
  private hoursUnitId: string | null | undefined = undefined;
  private readonly firedReminders = new Set<number>();
  /** Levels are kept apart like reminders: mixed offsets (working and calendar) may cross. */
  private readonly firedLevels = new Set<number>();
  /**
   * Set by a stop that still owes what came due before it (a roll-call closing with people
   * missing): the missed deadline and the levels due by this instant fire before the runner
   * ends. Null: a stop ends the runner at once.
   */
  private firesDueUntil: string | null = null;

  /** The deadline with its `upTree` ladders expanded into levels (lang/ladder.ts). */
  readonly spec: LevelledDeadlineSpec;

  constructor(
    readonly key: string,
    spec: DeadlineSpec,
    readonly startedAt: string,
    readonly stepId: string | undefined,
    /** The task the deadline belongs to; null for a case deadline. */
    readonly task:
      | (TaskContext & {
          onEscalation?(people: TaskContext['candidates']): void;
          /** Marks the task for the next projection (its document shows these deadlines too). */
          changed?(): void;
          /** Set on a supervision slip: its own deadline passing is recorded as the slip's. */
          supervision?: SupervisionFacts | null;
        })
      | null,
  ) {
    // A deadline without a ladder is kept as it is, so clocks of running cases plan as before.
    this.spec = levelledDeadline(spec);
  }

  view(): DeadlineView {
    const paused = this.pauses.some((p) => p.to === undefined);
    return deadlineViewOf({
      key: this.key,
      name: this.spec.name,
      plan: this.plan,
      paused,
      missed: this.missed,
      stopped: this.stopped,
      escalationLevel: this.level,
    });
  }

  /** Marks every level of the ladder at `entry` of `escalations` as done: it walked past the root. */
  private endLadder(entry: number): void {
    this.spec.escalations.forEach((level, index) => {
      if (level.ladder?.entry === entry) this.firedLevels.add(index + 1);
    });
  }

  /** What the planning activity is asked for this clock, but the unit whose hours count. */
  planRequest(): { policy: DeadlinePolicy; startedAt: string; pauses: ClockPause[] } {
    return {
      policy: {
        // Set for every clock: a deadline with `at` runs as the time from its start (runnableDeadline).
        within: this.spec.within!,
        reminders: this.spec.reminders.map((r) => ({ before: r.before })),
        escalations: this.spec.escalations.map((e) => ({ after: e.after })),
      },
      startedAt: this.startedAt,
      pauses: this.pauses,
    };
  }

  /** Asks the planning activity for fresh instants; a stale answer never overwrites a newer one. */
  async replan(run: ClockHost): Promise<void> {
    const request = ++this.requested;
    const holds = this.holds;
    if (this.hoursUnitId === undefined) {
      this.hoursUnitId = appliesSince2026_11(CHANGES_SINCE_2026_11.unitWorkingHours)
        ? (this.task?.unitId ?? run.caseUnitId ?? null)
        : null;
    }
    this.busy++;
    let plan: DeadlinePlan;
    try {
      plan = await lookups.planDeadline({
        ...this.planRequest(),
        ...(this.hoursUnitId !== null ? { unitId: this.hoursUnitId } : {}),
      });
    } finally {
      this.busy--;
    }
    if (request < this.requested) return;
    this.plan = plan;
    this.plannedHolds = holds;
    this.planVersion++;
    this.viewChanged(run);
  }

  /**
   * Takes a first plan another activity made from {@link planRequest} (a roll-call's opening,
   * workflows/steps/task.ts) as {@link replan} would have taken the planning activity's, with
   * the unit whose hours it counted in (kept for later plans, as replan keeps it).
   */
  adoptFirstPlan(run: ClockHost, plan: DeadlinePlan, hoursUnitId: string | null): void {
    this.requested++;
    this.hoursUnitId = hoursUnitId;
    this.plan = plan;
    this.plannedHolds = this.holds;
    this.planVersion++;
    this.viewChanged(run);
  }

  /** The deadline's view changed: the case's list and, for a task deadline, the task's. */
  private viewChanged(run: ClockHost): void {
    run.projection.deadlinesChangedNow();
    this.task?.changed?.();
  }

  /**
   * Stops the clock: nothing due later fires. With `dueUntil` (a roll-call closing with people
   * missing), the missed deadline and the escalation levels due by then that have not fired yet
   * still fire, in order, before the runner ends: a case running late (a loaded or stopped
   * worker, slow activities before them) must not drop a level that came due while the
   * roll-call was open. Reminders do not: whom they would remind can no longer report.
   */
  stop(dueUntil?: string): void {
    this.stopped = true;
    if (dueUntil !== undefined && this.firesDueUntil === null) this.firesDueUntil = dueUntil;
  }

  /**
   * The case waits on the requester from `at`: the clock stands still. Since the patch it holds at
   * once, before the new plan returns, so a timer of the old plan cannot fire in between.
   */
  pause(at: string): void {
    this.pauses.push({ from: at });
    this.heldFromNow();
  }

  /** The wait ended at `at`. Since the patch the clock holds until the new plan returns. */
  resume(at: string): void {
    const open = this.pauses.filter((p) => p.to === undefined);
    for (const p of open) p.to = at;
    if (open.length > 0) this.heldFromNow();
  }

  private heldFromNow(): void {
    if (!applies(CHANGES.pauseHoldsClock)) return;
    this.holdsWhilePaused = true;
    this.holds++;
  }

  /** Paused, or the plan in use was made before the latest pause or resumption. */
  private held(): boolean {
    return (
      this.holdsWhilePaused &&
      (this.plannedHolds !== this.holds || this.pauses.some((p) => p.to === undefined))
    );
  }

  private nextEvent(withReminders = true): ClockEvent | null {
    const plan = this.plan;
    if (!plan || plan.dueAt === null) return null;
    const events: ClockEvent[] = [];
    for (const r of withReminders ? plan.reminders : []) {
      // A reminder due before the clock started (a short deadline) would only be noise.
      if (!this.firedReminders.has(r.index) && r.at > this.startedAt) {
        events.push({ kind: 'reminder', index: r.index, at: r.at });
      }
    }
    if (!this.missed) events.push({ kind: 'missed', at: plan.dueAt });
    for (const e of plan.escalations) {
      // Histories from before levels were kept apart skipped a lower level that came due later.
      const crossed = e.level < this.level;
      if (
        !this.firedLevels.has(e.level) &&
        (!crossed || applies(CHANGES.crossedEscalationLevels))
      ) {
        events.push({ kind: 'escalation', level: e.level, at: e.at });
      }
    }
    events.sort((a, b) =>
      a.at === b.at ? EVENT_ORDER[a.kind] - EVENT_ORDER[b.kind] : a.at < b.at ? -1 : 1,
    );
    return events[0] ?? null;
  }

  async run(run: ClockHost): Promise<void> {
    if (this.plan === null) await this.replan(run);
    for (;;) {
      if (this.stopped) return this.fireOwed(run);
      const seen = this.planVersion;
      const seenHolds = this.holds;
      // A pause or a resumption wakes the runner too (`holds` moves only since the patch).
      const changed = () => this.stopped || this.planVersion !== seen || this.holds !== seenHolds;
      const event = this.held() ? null : this.nextEvent();
      if (!event) {
        await condition(changed);
        continue;
      }
      const waitMs = Date.parse(event.at) - Date.now();
      if (waitMs > 0 && (await condition(changed, waitMs))) continue;
      if (this.stopped) return this.fireOwed(run);
      // The timer and a pause may arrive in one activation: the pause wins.
      if (this.held()) continue;
      this.busy++;
      try {
        await this.fire(run, event);
      } finally {
        this.busy--;
      }
    }
  }

  /**
   * After a stop with `dueUntil`: the missed deadline and the levels due by then that have not
   * fired, one after the other (under its own marker, asked only when there is one).
   */
  private async fireOwed(run: ClockHost): Promise<void> {
    const until = this.firesDueUntil;
    if (until === null || this.held()) return;
    for (;;) {
      const event = this.nextEvent(false);
      if (event === null || event.at > until) return;
      if (!firesLateRollCallEscalations()) return;
      this.busy++;
      try {
        await this.fire(run, event);
      } finally {
        this.busy--;
      }
    }
  }

  /**
   * The clock's state for the next run of its case (workflows/continuation.ts); null while it is
   * mid-way: a plan or a reminder or escalation in flight, or holding for a plan after a pause.
   */
  carry(): CarriedClock | null {
    if (this.busy > 0 || this.plannedHolds !== this.holds) return null;
    return {
      key: this.key,
      spec: this.spec,
      startedAt: this.startedAt,
      plan: this.plan,
      stopped: this.stopped,
      missed: this.missed,
      level: this.level,
      pauses: this.pauses.map((p) => ({ ...p })),
      firedReminders: [...this.firedReminders],
      firedLevels: [...this.firedLevels],
      holdsWhilePaused: this.holdsWhilePaused,
      ...(this.hoursUnitId !== undefined && this.hoursUnitId !== null
        ? { hoursUnitId: this.hoursUnitId }
        : {}),
    };
  }

  /**
   * A clock as a previous run of its case carried it: nothing it fired fires again. A case clock
   * has no step and no task; a task's (carried inside a `parallel`) gets its restored task.
   */
  static restore(
    carried: CarriedClock,
    stepId: string | undefined = undefined,
    task: Clock['task'] = null,
  ): Clock {
    const clock = new Clock(carried.key, carried.spec, carried.startedAt, stepId, task);
    clock.plan = carried.plan;
    clock.stopped = carried.stopped;
    clock.missed = carried.missed;
    clock.level = carried.level;
    clock.pauses = carried.pauses.map((p) => ({ ...p }));
    for (const index of carried.firedReminders) clock.firedReminders.add(index);
    for (const level of carried.firedLevels) clock.firedLevels.add(level);
    clock.holdsWhilePaused = carried.holdsWhilePaused;
    // Planned in a previous run: it keeps the hours it was planned in (none carried: office hours).
    clock.hoursUnitId = carried.plan !== null ? (carried.hoursUnitId ?? null) : undefined;
    return clock;
  }

  /**
   * A reminder or escalation of a roster roll-call: the roll-call's own people (the missing, or
   * everyone) are mailed from the roster, each once under a per-person key; supervisors are
   * resolved here as always and their mails get the figures and the names of the missing, which
   * the activity reads from the roster. Only counts enter the history.
   */
  private async fireOnRoster(
    run: ClockHost,
    event: Exclude<ClockEvent, { kind: 'missed' }>,
    detail: Detail,
    context: Record<string, unknown>,
  ): Promise<void> {
    const task = this.task!;
    const stepId = this.stepId ?? 'case';
    if (event.kind === 'reminder') {
      this.firedReminders.add(event.index);
      const reminder = this.spec.reminders[event.index]!;
      run.projection.record('deadline.reminded', ENGINE, this.stepId, {
        ...detail,
        reminder: event.index + 1,
      });
      const split = rosterSplit(asList(reminder.notify));
      const { targets, found } =
        split.others.length > 0
          ? await run.recipientsOf(split.others, task)
          : { targets: [], found: undefined };
      await run.mailRollCall(
        {
          taskId: task.id,
          template: reminder.template,
          keyBase: `${run.caseId}:${this.key}:reminder:${event.index + 1}`,
          context,
          roster: split.roster,
          targets: [
            ...targets,
            ...(reminder.groupRobot ? rosterRobots(run, found, split.roster, task) : []),
          ],
          ...(reminder.channels !== undefined ? { channels: reminder.channels } : {}),
          // The figures only: who else is missing is for the supervisor's mail.
          figures: true,
          missingNames: false,
        },
        stepId,
      );
      await run.projection.flush();
      return;
    }
    this.firedLevels.add(event.level);
    this.level = Math.max(this.level, event.level);
    const escalation = this.spec.escalations[event.level - 1]!;
    const split = rosterSplit(asList(escalation.notify));
    const { targets, found } =
      split.others.length > 0
        ? await run.recipientsOf(split.others, task)
        : {
            targets: [],
            found: { people: [], unitId: null, unitName: null, fellBack: false },
          };
    await run.mailRollCall(
      {
        taskId: task.id,
        template: escalation.template,
        keyBase: `${run.caseId}:${this.key}:escalation:${event.level}`,
        context: {
          ...context,
          level: event.level,
          unitName: found.unitName ?? task.name,
          fellBack: found.fellBack,
        },
        roster: split.roster,
        targets: [
          ...targets,
          ...(escalation.groupRobot ? rosterRobots(run, found, split.roster, task) : []),
        ],
        ...(escalation.channels !== undefined ? { channels: escalation.channels } : {}),
        figures: true,
        missingNames: true,
      },
      stepId,
    );
    run.projection.record(
      found.people.length > 0 || split.roster !== null
        ? 'deadline.escalated'
        : 'deadline.unresolved',
      ENGINE,
      this.stepId,
      {
        ...detail,
        level: event.level,
        people: found.people.length,
        fellBack: found.fellBack,
        ...(found.unitId !== null ? { unitId: found.unitId } : {}),
      },
    );
    // A roll-call is not handed over (reassign): its people are called, not replaced.
    this.viewChanged(run);
    await run.projection.flush();
  }

  private async fire(run: ClockHost, event: ClockEvent): Promise<void> {
    const detail = { deadline: this.spec.id, ...(this.task ? { task: this.task.id } : {}) };
    const context = {
      caseId: run.caseId,
      processName: run.spec.name,
      taskName: this.task?.name ?? run.spec.name,
      deadlineName: this.spec.name,
      dueAt: this.plan!.dueAt,
    };
    // A roster roll-call's mails come from its roster (figures and names read there).
    if (this.task?.roster && event.kind !== 'missed') {
      await this.fireOnRoster(run, event, detail, context);
      return;
    }
    // A roll-call's mails carry its figures and, by person id, who is still missing.
    const rollCall = this.task ? rollCallMailFacts(this.task) : null;
    if (event.kind === 'missed') {
      this.missed = true;
      const slip = this.task?.supervision;
      if (slip) {
        // A slip's own deadline: recorded as the slip's, not as the case missing a deadline.
        slip.overdue = true;
        run.projection.record('supervision.overdue', ENGINE, this.stepId, {
          task: this.task.id,
          level: slip.level,
        });
        this.viewChanged(run);
        await run.projection.flush();
        return;
      }
      run.projection.record('deadline.missed', ENGINE, this.stepId, detail);
      this.viewChanged(run);
      await run.projection.flush();
      return;
    }
    if (event.kind === 'reminder') {
      this.firedReminders.add(event.index);
      const reminder = this.spec.reminders[event.index]!;
      run.projection.record('deadline.reminded', ENGINE, this.stepId, {
        ...detail,
        reminder: event.index + 1,
      });
      await run.notify({
        recipients: asList(reminder.notify),
        template: reminder.template,
        keyBase: `${run.caseId}:${this.key}:reminder:${event.index + 1}`,
        stepId: this.stepId ?? 'case',
        task: this.task,
        ...(reminder.channels !== undefined ? { channels: reminder.channels } : {}),
        ...(reminder.groupRobot ? { groupRobot: true } : {}),
        // The figures only: who else is missing is for the supervisor's mail, not each person's.
        context: rollCall ? { ...context, ...rollCall.context } : context,
      });
      await run.projection.flush();
      return;
    }
    this.firedLevels.add(event.level);
    const levelBefore = this.level;
    this.level = Math.max(this.level, event.level);
    const escalation = this.spec.escalations[event.level - 1]!;
    const assignee = this.task?.assignee ?? null;
    const { targets, found } = await run.recipientsOf(asList(escalation.notify), this.task);
    if (escalation.ladder && found.unitId === null && found.people.length === 0) {
      // An `upTree` level past the root (no unit that far up): the ladder ends here, its
      // remaining levels with it; nothing is mailed or recorded for them.
      this.level = levelBefore;
      this.endLadder(escalation.ladder.entry);
      return;
    }
    await run.deliver(
      targets,
      {
        template: escalation.template,
        keyBase: `${run.caseId}:${this.key}:escalation:${event.level}`,
        stepId: this.stepId ?? 'case',
        ...(escalation.channels !== undefined ? { channels: escalation.channels } : {}),
        ...(escalation.groupRobot ? { groupRobot: true } : {}),
        context: {
          ...context,
          level: event.level,
          // People named directly (the assignee, a person) come with no unit of their own.
          // Every unit the level reached (posts in two units), joined; the first alone before.
          unitName: unitNamesOf(found) ?? this.task?.name ?? run.spec.name,
          fellBack: found.fellBack,
          ...(rollCall ? rollCall.context : {}),
        },
        ...(assignee ? { names: { assigneeName: assignee.personId } } : {}),
        ...(rollCall ? { nameLists: rollCall.nameLists } : {}),
      },
      found,
    );
    run.projection.record(
      found.people.length > 0 ? 'deadline.escalated' : 'deadline.unresolved',
      ENGINE,
      this.stepId,
      {
        ...detail,
        level: event.level,
        people: found.people.length,
        fellBack: found.fellBack,
        ...(found.unitId !== null ? { unitId: found.unitId } : {}),
        // A ladder's level is named by its rank up the tree and the unit it reached.
        ...(escalation.ladder ? { ladder: escalation.ladder.rank } : {}),
        ...(found.units && found.units.length > 1
          ? { unitIds: found.units.map((u) => u.unitId) }
          : {}),
      },
    );
    if (escalation.reassign && found.people.length > 0) this.task?.onEscalation?.(found.people);
    if (run.opensSlip(escalation)) await run.openSlip(this, event.level, escalation, found);
    this.viewChanged(run);
    await run.projection.flush();
  }
}

/** The names of the units people were found in, joined with "、" (null: none). */
export function unitNamesOf(found: ResolvedPeople): string | null {
  const names = (found.units ?? [])
    .map((u) => u.unitName)
    .filter((n): n is string => typeof n === 'string' && n.length > 0);
  if (names.length > 1) return [...new Set(names)].join('、');
  return found.unitName;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 24 * 3600_000;

/**
 * The instant a deadline's `at` value means: an instant as given; a date, the end of that day in
 * Beijing time (the next day at 00:00+08:00), so "due on 12-15" leaves all of the 15th. Anything
 * else (null: an optional date left empty) is no instant.
 */
export function deadlineInstant(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const at = DATE_ONLY.test(value)
    ? Date.parse(`${value}T00:00:00${BEIJING_ISO_OFFSET}`) + DAY_MS
    : Date.parse(value);
  return Number.isNaN(at) ? null : at;
}

/**
 * A deadline as its clock runs it. One with `at` is evaluated once, when its clock starts, and
 * runs as the calendar time from then to that instant (at least a millisecond: a date already
 * past is missed at once); pauses move it like any calendar deadline. Null when `at` gives no
 * instant: that deadline is not set for this task or case.
 */
export function runnableDeadline(
  spec: DeadlineSpec,
  startedAt: string,
  scope: Record<string, unknown>,
): DeadlineSpec | null {
  if (spec.at === undefined) return spec;
  const due = deadlineInstant(evaluateValue(spec.at, scope));
  if (due === null) return null;
  return runsUntil(spec, startedAt, due);
}

/** The deadline running as the calendar time from `startedAt` to `due` (at least 1 ms). */
function runsUntil(spec: DeadlineSpec, startedAt: string, due: number): DeadlineSpec {
  const ms = Math.max(1, due - Date.parse(startedAt));
  return { ...spec, within: `PT${(ms / 1000).toFixed(3)}S` };
}

/**
 * `start` (the instant an `at` or `until` expression gave) plus `after`: calendar time is added
 * here; working time is planned by the `planDeadline` activity in the working calendar and hours
 * of `unitId` (null: office hours), as a clock's `within` is. Asked only by definitions written
 * with `after` (new syntax), under the combined 2026-12 marker.
 */
export async function instantAfter(
  start: number,
  after: string,
  unitId: string | null,
): Promise<number> {
  // Never false for a definition with `after` (none ran before the marker stood for it); were it
  // false, the instant itself, as `at` alone.
  if (!appliesSince2026_11(CHANGES_SINCE_2026_11.afterADate)) return start;
  const plan = await lookups.planDeadline({
    policy: { within: after, reminders: [], escalations: [] },
    startedAt: new Date(start).toISOString(),
    pauses: [],
    ...(unitId !== null ? { unitId } : {}),
  });
  return Date.parse(plan.dueAt!);
}

/**
 * A deadline with `at` and `after`: due that long after the instant `at` gives (a date counts from
 * the end of that day, as `at` alone does), counted in the working calendar of `unitId` (the
 * task's unit, else the case's). Null when `at` gives no instant. Callers await it only for such
 * a deadline ({@link plansAfter}) and take {@link runnableDeadline} synchronously otherwise: an
 * await, even of nothing, lets a parallel branch issue its commands first, and recorded cases
 * must replay in the order they ran.
 */
export async function deadlineAfter(
  spec: DeadlineSpec,
  startedAt: string,
  scope: Record<string, unknown>,
  unitId: string | null,
): Promise<DeadlineSpec | null> {
  const base = deadlineInstant(evaluateValue(spec.at!, scope));
  if (base === null) return null;
  return runsUntil(spec, startedAt, await instantAfter(base, spec.after!, unitId));
}

/** Whether a deadline falls `after` the instant its `at` gives (planned by an activity). */
export function plansAfter(spec: DeadlineSpec): boolean {
  return spec.at !== undefined && spec.after !== undefined;
}
