import { ApplicationFailure, Context } from '@temporalio/activity';
import type { mongo } from 'mongoose';
import type {
  Candidate,
  NotificationRequest,
  NotificationResult,
  ResolvedPeople,
  RosterFigures,
} from '../common/case';
import type { ChannelChoice } from '../lang/vocabulary';
import type { ActivityDependencies } from './dependencies';
import type { PersonContact } from './channels';
import { PERSON_CONTACT_FIELDS } from './channels';
import { readOrgRevision } from '../models/org-revision';
import { insertIgnoringDuplicates, type OutboxRow } from './outbox';
import type { ResolvePeopleRequest } from './lookups';
import type { ClockPause, DeadlinePlan, DeadlinePolicy } from '../common/sla';

/**
 * Roster roll-calls (ARCHITECTURE decision 8): the people a roll-call calls live in the
 * `rollCallEntries` collection, one document per person, never in the workflow's history. The
 * workflow opens the roll-call here and gets counts back; people acknowledge through the API
 * (services/tasks.ts), which sets their entry's `acknowledgedAt`; the workflow reads the figures
 * when it closes. Mails to the roster (the call, reminders to the missing, escalations naming
 * them) are sent from here, one per person under a per-person business key. Every write is
 * idempotent: a retried or replayed activity changes nothing twice.
 */

/** Mails sent at once per roll-call mail activity (chosen: keeps a few SMTP connections busy). */
export const ROLL_CALL_MAIL_CONCURRENCY = 8;
/** Outbox rows written per insert when a roll-call mails its roster (chosen: as OPEN_BATCH). */
const ENQUEUE_BATCH = 500;
/** People read by one query when a roll-call mails its roster (chosen: as a mail step's slice). */
const PEOPLE_PER_READ = 500;
/** Entries written per insert when a roll-call opens (chosen; the activity beats between). */
const OPEN_BATCH = 500;
/**
 * Attempts of a roll-call mail activity before the mails still failing are given up (the same
 * number as the mail stub's `maximumAttempts` in workflows/stubs.ts).
 */
export const ROLL_CALL_MAIL_ATTEMPTS = 8;

/**
 * Roster entries this process's `openRollCall`s inserted (a retry's duplicates not counted): what
 * bench:rollcall polls while it waits for the roster, over IPC from its worker, instead of
 * counting the collection (on FerretDB v1 a count converts every entry it matches).
 */
export const rosterEntriesInserted = { count: 0 };

export interface OpenRollCallRequest {
  taskId: string;
  caseId: string;
  /** The lookups the step's candidates mean, as the workflow built them (run.wireRequest). */
  requests: ResolvePeopleRequest[];
  /**
   * Cases since `roster-opened-in-one-activity` (workflows/patches.ts): the roll-call's deadlines
   * and window are planned here, and its call goes out from here, so the case runs one activity
   * and one read-model write before it waits instead of four and three. Absent: the roster only.
   */
  planning?: RollCallPlanning;
  /** The call to everyone (the step's `announce`), sent once the roster is written; see `call`. */
  call?: RollCallOpeningCall;
}

/** What a roll-call's opening plans for its workflow (workflows/steps/task.ts). */
export interface RollCallPlanning {
  /** One per clock of the step, as `Clock.replan` would ask `planDeadline`. */
  clocks: Array<{ policy: DeadlinePolicy; startedAt: string; pauses: ClockPause[] }>;
  /**
   * Whether the clocks count working time in their unit's hours (the `unit-working-hours`
   * change): the roll-call's unit as resolved here, else `caseUnitId`; otherwise office hours.
   */
  unitHours: boolean;
  caseUnitId: string | null;
  /** The step's `within` (its window), planned from `openedAt` in office hours; null: none. */
  window: string | null;
  openedAt: string;
}

/** The call mail a roll-call's opening sends: a `mailRollCall` to the whole roster. */
export interface RollCallOpeningCall {
  template: string;
  keyBase: string;
  /** The mail's context without `deadlines`: those come from the plans made here. */
  context: Record<string, unknown>;
  /** The name of each clock in `planning.clocks`, or null for one the call does not list. */
  deadlineNames: Array<string | null>;
  channels?: ChannelChoice[];
}

export interface OpenRollCallResult {
  expected: number;
  unitId: string | null;
  unitName: string | null;
  fellBack: boolean;
  /** With `planning`: each clock's first plan, in the order asked. */
  plans?: DeadlinePlan[];
  /** With `planning`: the unit whose working hours the clocks count in (null: office hours). */
  hoursUnitId?: string | null;
  /** With `planning`: when the window ends (null: the step has none). */
  windowDueAt?: string | null;
  /**
   * With `call`: what the call did, or null when it was not sent here (a roster above
   * {@link CALL_AT_OPENING_MAX}, or mails that failed): the workflow then sends it with its own
   * activity (`mailRollCall`, retried and given up as before), and the business keys keep what
   * went out here from going out twice.
   */
  call?: RollCallMailResult | null;
}

/**
 * The largest roster whose call goes out from the opening activity (chosen: a compound's roster
 * is tens of people; one of thousands keeps the call in its own activity, with its own
 * 10-minute timeout, so the opening's 5 minutes are the roster's alone).
 */
export const CALL_AT_OPENING_MAX = 1_000;

/** A mail to a roll-call's roster (all or those still missing) and to other targets. */
export interface RollCallMailRequest {
  taskId: string;
  caseId: string;
  template: string;
  keyBase: string;
  context: Record<string, unknown>;
  /** Which of the roster: everyone called, those not yet acknowledged, or none. */
  roster: 'all' | 'unacknowledged' | null;
  /**
   * Further recipients, by slot: an escalation's supervisors (people or addresses), and the
   * group robots `groupRobot: true` posts to (`{ unitId }`, slot `robot:<unit id>`).
   */
  targets: Array<{ slot: string; to: RollCallTarget }>;
  /**
   * The definition's channels for each person (docs 8.7), the roster's and the supervisors';
   * absent: each person's own preferences, then mail, as every other notification.
   */
  channels?: ChannelChoice[];
  /** Add the figures (expected, acknowledged, missing) to the context. */
  figures: boolean;
  /** Name those still missing in `missingNames` (an escalation's list). */
  missingNames: boolean;
  names?: Record<string, string>;
}

/** Who one roll-call mail goes to: an address, a person, or a unit's group robot. */
export type RollCallTarget = string | { personId: string } | { unitId: string };

export interface RollCallMailResult {
  /** Mails sent now or before (a retry). */
  sent: number;
  noAddress: number;
  /** Given up after the last attempt. */
  failed: number;
}

interface EntryDoc {
  _id: string;
  taskId: string;
  caseId: string;
  personId: string;
  userId: string | null;
  unitId: string;
  seq: number;
  acknowledgedAt: Date | null;
  closedAt: Date | null;
}

function rosterCollection(deps: ActivityDependencies): mongo.Collection<EntryDoc> {
  return deps.models.RollCallEntry.collection as unknown as mongo.Collection<EntryDoc>;
}

/**
 * A roster roll-call's people as its task document lists them (the inbox finds a task by its
 * candidates' accounts, the console lists them), in the candidates' order: the projection copies
 * them with the task's first snapshot, so they never pass through the workflow.
 */
export async function rosterCandidates(
  deps: ActivityDependencies,
  taskId: string,
): Promise<{ candidates: Candidate[]; candidateUserIds: string[] }> {
  const docs = await rosterCollection(deps)
    .find({ taskId }, { projection: { personId: 1, userId: 1, unitId: 1, seq: 1 } })
    .sort({ seq: 1 })
    .toArray();
  const candidates = docs.map((d) => ({
    personId: d.personId,
    userId: d.userId,
    unitId: d.unitId,
  }));
  return {
    candidates,
    candidateUserIds: candidates.flatMap((c) => (c.userId ? [c.userId] : [])),
  };
}

/**
 * Tells the server this roll-call activity is alive. With the stubs' heartbeat timeout, a worker
 * killed while calling or opening a roster is noticed within that timeout and the activity runs
 * again on another worker (what was done is not done twice: upserts and business keys), instead
 * of after its whole start-to-close timeout. The SDK throttles the beats it sends.
 */
function heartbeat(): void {
  Context.current().heartbeat();
}

export function createRollCallActivities(
  deps: ActivityDependencies,
  helpers: {
    resolvePeople(request: ResolvePeopleRequest): Promise<ResolvedPeople>;
    sendNotification(
      request: NotificationRequest,
      prepared?: {
        person?: PersonContact;
        names?: Record<string, unknown>;
        batch?: boolean;
        collect?: (row: OutboxRow) => void;
      },
    ): Promise<NotificationResult>;
    /** Writes and queues the outbox rows `collect` took, together (activities/index.ts). */
    enqueueRows(rows: readonly OutboxRow[]): Promise<void>;
    /** The context's names a notification asks for (activities/index.ts `namesOf`). */
    namesOf(
      request: Pick<NotificationRequest, 'names' | 'nameLists'>,
    ): Promise<Record<string, unknown>>;
    /** Wakes the outbox dispatcher once a batch is queued. */
    wakeOutbox(): void;
    abandonNotification(businessKey: string): Promise<void>;
    /** The `planDeadline` lookup (activities/lookups.ts), as the workflow's clocks ask it. */
    planDeadline(request: {
      policy: DeadlinePolicy;
      startedAt: string;
      pauses: ClockPause[];
      unitId?: string | null;
    }): Promise<DeadlinePlan>;
  },
) {
  const entries = rosterCollection(deps);
  const rawTasks = deps.models.Task.collection as unknown as mongo.Collection<{ _id: string }>;

  /**
   * Everyone's address and name as of one org revision (models/org-revision.ts: every write of
   * a person bumps it), read once per revision and kept, like the lookups' accounts. On FerretDB
   * v1 an `_id: { $in }` read is a scan of every person all the same, and a roll-call over 300
   * compounds mails its rosters 1,500 times (the call, a reminder, three escalations each).
   */
  let contacts: Promise<{ revision: number; people: Map<string, PersonContact> }> | null = null;
  async function contactsAt(revision: number): Promise<Map<string, PersonContact>> {
    const held = contacts ? await contacts.catch(() => null) : null;
    if (held?.revision === revision) return held.people;
    contacts = deps.models.Person.find({}, PERSON_CONTACT_FIELDS)
      .lean()
      .then((docs) => ({ revision, people: new Map(docs.map((d) => [String(d._id), d])) }));
    return (await contacts).people;
  }

  /**
   * Address and name of each person: from the revision's contacts, and anyone written since
   * they were read by id, {@link PEOPLE_PER_READ} at a time.
   */
  async function peopleOf(personIds: readonly string[]): Promise<Map<string, PersonContact>> {
    const ids = [...new Set(personIds)];
    const people = new Map<string, PersonContact>();
    if (ids.length === 0) return people;
    const known = await contactsAt(await readOrgRevision(deps.models));
    const unknown: string[] = [];
    for (const id of ids) {
      const person = known.get(id);
      if (person) people.set(id, person);
      else unknown.push(id);
    }
    for (let i = 0; i < unknown.length; i += PEOPLE_PER_READ) {
      const slice = unknown.slice(i, i + PEOPLE_PER_READ);
      const docs = await deps.models.Person.find(
        { _id: { $in: slice } },
        PERSON_CONTACT_FIELDS,
      ).lean();
      for (const d of docs) people.set(String(d._id), d);
    }
    return people;
  }

  async function figuresOf(taskId: string): Promise<Required<RosterFigures>> {
    const expected = await entries.countDocuments({ taskId });
    const acknowledged = await entries.countDocuments({ taskId, acknowledgedAt: { $ne: null } });
    return { expected, acknowledged, missing: expected - acknowledged };
  }

  /** Person ids of the roster, in the candidates' order: all, or those not acknowledged. */
  async function personIdsOf(taskId: string, which: 'all' | 'unacknowledged'): Promise<string[]> {
    const filter = which === 'all' ? { taskId } : { taskId, acknowledgedAt: null };
    const docs = await entries
      .find(filter, { projection: { personId: 1, seq: 1 } })
      .sort({ seq: 1 })
      .toArray();
    return docs.map((d) => d.personId);
  }

  /**
   * Puts one message per target in the outbox under `<keyBase>:<slot>` (what `mailRollCall` and
   * a roll-call's opening call send): the rows collected and written {@link ENQUEUE_BATCH} at a
   * time. Returns what went in and the keys that failed (retried by the caller's activity); a
   * non-retryable failure (a template error) is thrown.
   */
  async function sendToTargets(
    request: Omit<RollCallMailRequest, 'roster' | 'targets'>,
    targets: ReadonlyArray<{ slot: string; to: RollCallTarget }>,
  ): Promise<{ result: RollCallMailResult; failedKeys: string[] }> {
    const context = { ...request.context };
    if (request.figures) Object.assign(context, await figuresOf(request.taskId));
    const nameLists = request.missingNames
      ? { missingNames: await personIdsOf(request.taskId, 'unacknowledged') }
      : undefined;
    const result: RollCallMailResult = { sent: 0, noAddress: 0, failed: 0 };
    const failedKeys: string[] = [];
    // What every mail needs is read once for the whole roster, not once per mail: the people
    // (address and name) a slice at a time, and the names the context asks for. On FerretDB v1
    // each of those reads is a scan of the collection, so per-mail reads made calling N people
    // cost N scans (bench:rollcall at 10,000 people).
    const common = {
      ...(request.names !== undefined ? { names: request.names } : {}),
      ...(nameLists !== undefined ? { nameLists } : {}),
    };
    const names = await helpers.namesOf(common);
    const people = await peopleOf(
      targets.flatMap((t) =>
        typeof t.to !== 'string' && 'personId' in t.to ? [t.to.personId] : [],
      ),
    );
    // The rows are collected and written together, ENQUEUE_BATCH at a time, not two inserts
    // per mail (bench:rollcall: the compound cases' calls were two store round trips each).
    const rows: OutboxRow[] = [];
    const collect = (row: OutboxRow) => void rows.push(row);
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const target = targets[next++]!;
        heartbeat();
        const businessKey = `${request.keyBase}:${target.slot}`;
        const personId =
          typeof target.to !== 'string' && 'personId' in target.to ? target.to.personId : null;
        const person = personId !== null ? people.get(personId) : undefined;
        if (personId !== null && !person) {
          result.noAddress++;
          continue;
        }
        try {
          const sent = await helpers.sendNotification(
            {
              businessKey,
              caseId: request.caseId,
              template: request.template,
              to: target.to,
              context,
              ...common,
              // Channels choose among a person's addresses; an address is mailed and a robot
              // posted as they are (run.sendOne passes them the same way).
              ...(request.channels !== undefined && personId !== null
                ? { channels: request.channels }
                : {}),
            },
            { ...(person ? { person } : {}), names, batch: true, collect },
          );
          if (sent.status === 'no-address') result.noAddress++;
        } catch (err) {
          if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
          failedKeys.push(businessKey);
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(ROLL_CALL_MAIL_CONCURRENCY, targets.length) }, worker),
    );
    for (let i = 0; i < rows.length; i += ENQUEUE_BATCH) {
      heartbeat();
      const slice = rows.slice(i, i + ENQUEUE_BATCH);
      try {
        await helpers.enqueueRows(slice);
        result.sent += slice.length;
      } catch (err) {
        if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
        failedKeys.push(...slice.map((row) => row._id));
      }
    }
    helpers.wakeOutbox();
    return { result, failedKeys };
  }

  /**
   * A roll-call's first plans, as its clocks and its window would ask them one activity each
   * (workflows/clocks.ts `replan`, workflows/steps/task.ts `waitForRoster`): the clocks in the
   * hours of the unit the roll-call resolved to (else the case's) when the case counts unit
   * hours, the window in office hours.
   */
  async function planOpening(
    planning: RollCallPlanning,
    unitId: string | null,
  ): Promise<Pick<OpenRollCallResult, 'plans' | 'hoursUnitId' | 'windowDueAt'>> {
    const hoursUnitId = planning.unitHours ? (unitId ?? planning.caseUnitId ?? null) : null;
    const plans: DeadlinePlan[] = [];
    for (const clock of planning.clocks) {
      plans.push(
        await helpers.planDeadline({
          ...clock,
          ...(hoursUnitId !== null ? { unitId: hoursUnitId } : {}),
        }),
      );
    }
    const windowDueAt =
      planning.window === null
        ? null
        : (
            await helpers.planDeadline({
              policy: { within: planning.window, reminders: [], escalations: [] },
              startedAt: planning.openedAt,
              pauses: [],
            })
          ).dueAt;
    return { plans, hoursUnitId, windowDueAt };
  }

  /**
   * The call to everyone a roll-call's opening sends, from the people it just resolved (no read
   * of the roster back): what `mailRollCall` with `roster: 'all'` would send, under the same
   * business keys. Null, and nothing more tried here, when the roster is large or any mail
   * failed: the workflow then runs `mailRollCall`, which retries and gives up as before, and
   * the keys keep what went in here from going in twice.
   */
  async function callAtOpening(
    request: OpenRollCallRequest,
    call: RollCallOpeningCall,
    people: ReadonlyArray<{ personId: string }>,
    plans: readonly DeadlinePlan[],
  ): Promise<RollCallMailResult | null> {
    if (people.length > CALL_AT_OPENING_MAX) return null;
    const deadlines = plans.flatMap((plan, i) => {
      const name = call.deadlineNames[i];
      return name !== null && name !== undefined && plan.dueAt !== null
        ? [{ name, dueAt: plan.dueAt }]
        : [];
    });
    try {
      const { result, failedKeys } = await sendToTargets(
        {
          taskId: request.taskId,
          caseId: request.caseId,
          template: call.template,
          keyBase: call.keyBase,
          context: { ...call.context, deadlines },
          ...(call.channels !== undefined ? { channels: call.channels } : {}),
          figures: false,
          missingNames: false,
        },
        people.map((p) => ({ slot: p.personId, to: { personId: p.personId } })),
      );
      return failedKeys.length === 0 ? result : null;
    } catch (err) {
      // Ids and the error's kind only: no addresses or names in the log.
      deps.logger.warn(
        { taskId: request.taskId, error: err instanceof Error ? err.name : 'unknown' },
        'Roll-call call left to its own activity',
      );
      return null;
    }
  }

  return {
    /**
     * Opens a roll-call: resolves its candidates here (the same resolver as `resolvePeople`),
     * writes one roster entry per person (inserts: a retry finds them written), and returns
     * counts only. The task's first projection copies the people onto its read model.
     */
    async openRollCall(request: OpenRollCallRequest): Promise<OpenRollCallResult> {
      const people: ResolvedPeople['people'] = [];
      const seen = new Set<string>();
      let unitId: string | null = null;
      let unitName: string | null = null;
      let fellBack = false;
      for (const lookup of request.requests) {
        heartbeat();
        const resolved = await helpers.resolvePeople(lookup);
        for (const person of resolved.people) {
          if (seen.has(person.personId)) continue;
          seen.add(person.personId);
          people.push(person);
        }
        unitId ??= resolved.unitId;
        unitName ??= resolved.unitName;
        fellBack ||= resolved.fellBack;
      }
      // Inserts under `<task>:<person>`, never upserts: on FerretDB v1 an upsert's `_id` filter is
      // a scan of every roster entry (PostgreSQL cannot use the `_id` index for it), an insert
      // is checked by that index alone. A retry's entries written before are duplicate keys,
      // left as they are.
      for (let i = 0; i < people.length; i += OPEN_BATCH) {
        heartbeat();
        const batch = people.slice(i, i + OPEN_BATCH);
        const inserted = await insertIgnoringDuplicates(
          entries,
          batch.map((person, j) => ({
            _id: `${request.taskId}:${person.personId}`,
            taskId: request.taskId,
            caseId: request.caseId,
            personId: person.personId,
            userId: person.userId,
            unitId: person.unitId,
            seq: i + j,
            acknowledgedAt: null,
            closedAt: null,
          })),
        );
        // Added after the await: `count += await …` would add to the count read before it.
        rosterEntriesInserted.count += inserted;
      }
      const opened: OpenRollCallResult = { expected: people.length, unitId, unitName, fellBack };
      if (request.planning) Object.assign(opened, await planOpening(request.planning, unitId));
      if (request.call) {
        opened.call = await callAtOpening(request, request.call, people, opened.plans ?? []);
      }
      return opened;
    },

    /** The figures of a roll-call as they stand. */
    async rollCallFigures(taskId: string): Promise<Required<RosterFigures>> {
      return figuresOf(taskId);
    },

    /**
     * Closes a roll-call: every entry still unacknowledged is closed (missing), each in one atomic
     * update, so an acknowledgement either landed before or is refused after. Idempotent.
     */
    async closeRollCall(request: { taskId: string; at: string }): Promise<Required<RosterFigures>> {
      await entries.updateMany(
        { taskId: request.taskId, acknowledgedAt: null, closedAt: null },
        { $set: { closedAt: new Date(request.at) } },
      );
      // The task's claimants and count, from the roster: right even where the acknowledging
      // service's count lagged (FerretDB with several API processes, a crash between writes).
      const acknowledged = await entries
        .find(
          { taskId: request.taskId, acknowledgedAt: { $ne: null } },
          { projection: { personId: 1, userId: 1, unitId: 1, seq: 1 } },
        )
        .sort({ seq: 1 })
        .toArray();
      const claimants = acknowledged.map((d) => ({
        personId: d.personId,
        userId: d.userId,
        unitId: d.unitId,
      }));
      await rawTasks.updateOne(
        { _id: request.taskId },
        {
          $set: {
            claimants,
            claimantUserIds: claimants.flatMap((c) => (c.userId ? [c.userId] : [])),
            acknowledged: claimants.length,
          },
        },
      );
      return figuresOf(request.taskId);
    },

    /**
     * Notifies the roster (everyone, or those still missing) and any further targets, one
     * message per person under `<keyBase>:<slot>` through `sendNotification` (sent once per key,
     * on the person's channel: the request's `channels`, else their preferences, then mail), and
     * one post per group-robot target, a few at a time. Messages still failing are retried by
     * retrying the activity (what was sent is not sent again), and given up on its last attempt.
     */
    async mailRollCall(request: RollCallMailRequest): Promise<RollCallMailResult> {
      const targets: Array<{ slot: string; to: RollCallTarget }> = [];
      if (request.roster !== null) {
        for (const personId of await personIdsOf(request.taskId, request.roster)) {
          targets.push({ slot: personId, to: { personId } });
        }
      }
      targets.push(...request.targets);
      const { result, failedKeys } = await sendToTargets(request, targets);
      if (failedKeys.length > 0) {
        if (Context.current().info.attempt < ROLL_CALL_MAIL_ATTEMPTS) {
          throw ApplicationFailure.retryable(
            `${failedKeys.length} of ${targets.length} roll-call mails failed`,
            'MailDeliveryFailed',
          );
        }
        for (const key of failedKeys) await helpers.abandonNotification(key);
        result.failed = failedKeys.length;
      }
      return result;
    },
  };
}
