import { createHash, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type {
  ActingPrincipal,
  Candidate,
  CheckInRecord,
  DeadlineView,
  SupervisionFacts,
  TaskSnapshot,
  TaskStatus,
} from '../common/case';
import { CASE_UPDATES, ROLL_CALL_MAYBE_FULL_SIGNAL } from '../common/case';
import { isSupervisorRole } from '../common/roles';
import { earliestDue } from '../common/sla';
import { taskFormFieldsOf } from '../lang/assessment';
import { allSteps } from '../lang/steps';
import type { mongo } from 'mongoose';
import type { Models, TaskDocument } from '../models';
import type { Principal } from './auth';
import { AppError } from './errors';
import type { OrgScope, ScopeResolver, ScopeFields } from './scope';
import { canSee, scopeFilter, unitFilterOf, withinScope } from './scope';
import type { FieldSpec, StepSpec } from '../lang/definition';
import { startOf } from './started-case';
import type { DefinitionService } from './definitions';
import { skipOf, totalOf } from './paging';
import { assertOrgReferences } from './org-references';
import { unusablePhotos } from './attachment-references';
import { rangeOfBounds } from './periods';
import { asAppError, withCallDeadline } from './temporal-errors';
import { checkInRuleOf } from '../lang/check-in';
import type { CheckInRule } from '../lang/check-in';
import { measureCheckIn } from './check-in';

/**
 * Tasks whose step a task service keeps (chosen: a county activation's 300 roll-calls and every
 * open task of a busy day, a few MB at most).
 */
const KEPT_STEPS = 10_000;

/** What a report-in needs of its roster entry. */
interface RosterEntryFields {
  _id: string;
  personId: string;
  userId?: string | null;
  unitId?: string | null;
  acknowledgedAt?: Date | null;
  closedAt?: Date | null;
}
const ENTRY_FIELDS = {
  _id: 1,
  personId: 1,
  userId: 1,
  unitId: 1,
  acknowledgedAt: 1,
  closedAt: 1,
} as const;

/** Who may rate a case: its owner, those in scope, and the raters a feedback step names. */
const RATER_SCOPE: ScopeFields = { ownerFields: ['createdBy.id', 'raterUserIds'] };

export type TaskView = Omit<TaskSnapshot, 'version'> & { dueAt: string | null };

export interface TaskWork {
  task: TaskView;
  /** The step the task belongs to (its form fields and outcomes), as the case's version has it. */
  step: StepSpec | null;
  caseFields: FieldSpec[];
  caseName: string;
  caseData: Record<string, unknown>;
  caseCategory: string | null;
  caseCreatedAt: string | null;
}

export type TaskAction = 'claim' | 'release' | 'complete' | 'return' | 'reassign';
export type CaseAction = 'rate' | 'pause' | 'resume';
/** Where an action came from, as the timeline records it (`via`). */
export type ActionChannel = 'api' | 'console';

/**
 * Tasks are in scope by the case's unit, and for the people they name: the assignee and a pool's
 * claimants always, a task's candidates always, a claim pool's candidates only while it is open
 * (a broadcast pool reaches people far outside the case's unit; once it closes, those who did
 * not claim it no longer read it or its case).
 */
export const TASK_SCOPE: ScopeFields = {
  unitField: 'caseUnitId',
  ownerFields: [
    { path: 'candidateUserIds', when: [{ kind: 'task' }, { status: 'open' }] },
    'assigneeUserId',
    'claimantUserIds',
  ],
};

/**
 * Staff work lists and the actions on tasks and cases. Reads come from the `tasks` read model;
 * every action is an Update on the case's workflow, whose validator answers at once (403, 409,
 * 422). The same Idempotency-Key gives the same Update id, so a retried action is done once.
 */
export function createTaskService(deps: {
  models: Models;
  temporal: Client;
  /** Deadline of each Update or start, in ms (TEMPORAL_CALL_TIMEOUT_MS); past it, a 503. */
  callTimeoutMs: number;
  scope: ScopeResolver;
  definitions: Pick<DefinitionService, 'snapshot'>;
}) {
  const { Task, Case, Person, Post, Unit, RollCallEntry } = deps.models;
  /** The driver's collection, for the count and list a first acknowledgement adds to. */
  const rawTasks = Task.collection as unknown as mongo.Collection<{ _id: string }>;

  /**
   * The caller's own work: tasks they hold and claim pools they joined. Read as two queries, one
   * per field, each an equality FerretDB v1 hands to its store (an index serves it), instead of
   * one `$or` it would evaluate over every task; merged in the list's order. A page needs at most
   * `page × pageSize` of each; the total counts both and takes off what both hold.
   */
  async function mine(
    userId: string,
    query: { page: number; pageSize: number; status?: TaskStatus; caseId?: string },
    scope: Record<string, unknown>,
  ): Promise<{ items: TaskView[]; page: number; pageSize: number; total: number }> {
    const own: Record<string, unknown> = {
      // A work list: what is still to do, unless the caller asks for a status (done work).
      status: query.status ?? { $in: ['open', 'claimed'] },
      ...(query.caseId !== undefined ? { caseId: query.caseId } : {}),
    };
    const held = withinScope({ assigneeUserId: userId, ...own }, scope);
    const joined = withinScope({ claimantUserIds: userId, ...own }, scope);
    const wanted = skipOf(query) + query.pageSize;
    const [heldDocs, joinedDocs] = await Promise.all(
      [held, joined].map((filter) =>
        Task.find(filter).sort({ openedAt: -1, _id: 1 }).limit(wanted).lean(),
      ),
    );
    const byId = new Map([...heldDocs!, ...joinedDocs!].map((doc) => [doc._id, doc]));
    const merged = [...byId.values()].sort(
      (a, b) => b.openedAt.getTime() - a.openedAt.getTime() || (a._id < b._id ? -1 : 1),
    );
    const docs = merged.slice(skipOf(query), wanted);
    const total = await totalOf(query, docs.length, async () => {
      const [heldCount, joinedCount, bothCount] = await Promise.all([
        Task.countDocuments(held),
        Task.countDocuments(joined),
        Task.countDocuments(
          withinScope({ assigneeUserId: userId, claimantUserIds: userId, ...own }, scope),
        ),
      ]);
      return heldCount + joinedCount - bothCount;
    });
    return { items: docs.map(viewOf), page: query.page, pageSize: query.pageSize, total };
  }

  async function findTask(
    principal: Principal,
    taskId: string,
  ): Promise<TaskDocument & { _id: string }> {
    const doc = await Task.findById(taskId).lean();
    // A task that names the caller (a candidate, its assignee, a claimant) is theirs whatever
    // the org tree says: answered without resolving their units' subtree, which costs a read of
    // the org revision per request (a roll-call's every report-in). Otherwise the whole scope.
    if (
      !doc ||
      !(
        canSee(ownerOnlyScope(principal), doc, TASK_SCOPE) ||
        canSee(await deps.scope.resolve(principal), doc, TASK_SCOPE)
      )
    ) {
      throw new AppError('not_found', `No task "${taskId}" in your scope`);
    }
    return doc;
  }

  async function update<R>(
    principal: Principal,
    caseId: string,
    name: string,
    request: object,
    idempotencyKey: string | undefined,
  ): Promise<R> {
    const updateId =
      idempotencyKey === undefined
        ? randomUUID()
        : createHash('sha256')
            .update(`${principal.kind}:${principal.id}\n${caseId}\n${name}\n${idempotencyKey}`)
            .digest('hex')
            .slice(0, 32);
    try {
      return await withCallDeadline(deps.temporal, deps.callTimeoutMs, () =>
        deps.temporal.workflow
          .getHandle(caseId)
          .executeUpdate<R, [object]>(name, { args: [request], updateId }),
      );
    } catch (err) {
      throw asAppError(err);
    }
  }

  function actor(principal: Principal, via: ActionChannel): ActingPrincipal {
    return { kind: principal.kind, id: principal.id, roles: principal.roles, via };
  }

  /**
   * The person a task is reassigned to, as a candidate: their account and the unit of their
   * first post. A dispatcher reassigns only to people posted in their org scope (their units and
   * every unit below); admins to anyone. Others reach the workflow, which refuses them (403).
   */
  async function reassignee(principal: Principal, personId: string): Promise<Candidate> {
    const person = await Person.findById(personId, { userId: 1 }).lean();
    if (!person) {
      throw new AppError('unprocessable', 'Unknown person', [
        { path: 'body.personId', message: `no person "${personId}"` },
      ]);
    }
    const posts = await Post.find({ personId }, { unitId: 1 }).sort({ _id: 1 }).lean();
    const scope = await deps.scope.resolve(principal);
    if (
      !scope.all &&
      isSupervisorRole(principal.roles) &&
      !posts.some((post) => scope.unitIds.has(post.unitId))
    ) {
      throw new AppError('unprocessable', `Cannot reassign to "${personId}": outside your scope`, [
        {
          path: 'body.personId',
          message: `the reassignment's "to" (person "${personId}") holds no post in your org scope`,
        },
      ]);
    }
    return { personId, userId: person.userId ?? null, unitId: posts[0]?.unitId ?? '' };
  }

  /**
   * A person reports (报到) to a roster roll-call: their roster entry is acknowledged in one
   * atomic update (ARCHITECTURE decision 8: the one write the API makes to case state, since an
   * Update per person would grow the case's history with the square of its size). Idempotent: a
   * repeat answers with the task as it stands. The first acknowledgement also adds the person to
   * the task's claimants (their "mine" list) and its live count; when the count reaches the
   * expected figure, the workflow is told to check and close (a Signal, harmless if repeated).
   */
  async function acknowledge(
    principal: Principal,
    task: TaskDocument & { _id: string },
    checkInBody: unknown,
  ): Promise<TaskView> {
    if (task.status !== 'open' && task.status !== 'claimed') {
      throw new AppError('conflict', 'The roll-call is closed');
    }
    const checkIn = await checkInOf(task, checkInBody, 'report-in');
    // The entry by its `_id` (`<task>:<person>`), the person found among the task's candidates
    // (copied from the roster with its first snapshot): on FerretDB v1 only an `_id` lookup avoids
    // a scan of every roster entry per report. A task not yet carrying its roster is searched.
    const candidate = ((task.candidates ?? []) as Candidate[]).find(
      (c) => c.userId === principal.id,
    );
    // The first report stands: a repeat (with another position) changes nothing. The person's
    // entry is marked by its `_id` without reading it first: the candidate copied from the roster
    // holds what the count needs (person, account, unit). Only when the guarded update changes
    // nothing (a repeat, the roll-call closed, someone not on the roster) is the entry read.
    const acknowledgement = {
      $set: { acknowledgedAt: new Date(), ...(checkIn ? { checkIn } : {}) },
    };
    const open = { acknowledgedAt: null, closedAt: null };
    let entry: RosterEntryFields | null = null;
    if (candidate) {
      const id = `${task._id}:${candidate.personId}`;
      const marked = await RollCallEntry.updateOne({ _id: id, ...open }, acknowledgement);
      if (marked.modifiedCount === 1) {
        entry = {
          _id: id,
          personId: candidate.personId,
          userId: principal.id,
          unitId: candidate.unitId,
        };
      }
    }
    if (!entry) {
      const stored =
        (candidate
          ? await RollCallEntry.findById(`${task._id}:${candidate.personId}`, ENTRY_FIELDS).lean()
          : null) ??
        (await RollCallEntry.findOne(
          { userId: principal.id, taskId: task._id },
          ENTRY_FIELDS,
        ).lean());
      if (!stored || stored.userId !== principal.id) {
        throw new AppError('forbidden', 'You are not on the roster of this roll-call');
      }
      if (!stored.acknowledgedAt && stored.closedAt) {
        throw new AppError('conflict', 'The roll-call is closed');
      }
      if (!stored.acknowledgedAt) {
        const marked = await RollCallEntry.updateOne({ _id: stored._id, ...open }, acknowledgement);
        if (marked.modifiedCount === 0) {
          const current = await RollCallEntry.findById(stored._id, { acknowledgedAt: 1 }).lean();
          if (!current?.acknowledgedAt) throw new AppError('conflict', 'The roll-call is closed');
        }
      }
      entry = stored;
    }
    const acknowledged = entry;
    return oneAtATime(task._id, () => countAcknowledgement(task, acknowledged));
  }

  /**
   * Acknowledgements of one roll-call are counted on its task one at a time in this process:
   * FerretDB v1 applies an update as read-modify-write, so two at once on one document lose one
   * (measured: 95 of 299 counted with 8 at once). MongoDB needs no queue; with FerretDB and
   * several API processes the task's count may lag, and the roster (which the figures, the close
   * and the roll-call report read) stays right: each entry has one writer.
   */
  const turns = new Map<string, Promise<unknown>>();
  function oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = turns.get(key) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(work);
    const tail = mine.catch(() => undefined);
    turns.set(key, tail);
    void tail.then(() => {
      if (turns.get(key) === tail) turns.delete(key);
    });
    return mine;
  }

  async function countAcknowledgement(
    task: TaskDocument & { _id: string },
    entry: { personId: string; userId?: string | null; unitId?: string | null },
  ): Promise<TaskView> {
    const userId = entry.userId!;
    // Once per person, guarded by the list itself: a retry after a crash between the two writes
    // completes it, a repeat changes nothing.
    const candidate: Candidate = {
      personId: entry.personId,
      userId: entry.userId ?? null,
      unitId: entry.unitId ?? '',
    };
    // Counted and read back in one command: the task after the count is the answer and says
    // whether everyone has reported (FerretDB v1 converts the whole task document, with every
    // person called, for each read: bench:rollcall read it twice per report, then once after a
    // separate update). A find-and-modify by `_id` is pushed down to the `_id` index as an update
    // is (bench/ferretdb-pushdown.ts: 2 to 3 ms at 10,000 documents). A repeat (the guard matches
    // nothing) reads the task as it stands.
    const counts =
      ((await rawTasks.findOneAndUpdate(
        { _id: task._id, claimantUserIds: { $ne: userId } },
        {
          $addToSet: { claimants: candidate, claimantUserIds: userId },
          $inc: { acknowledged: 1 },
        },
        { returnDocument: 'after' },
      )) as (TaskDocument & { _id: string }) | null) ?? (await Task.findById(task._id).lean());
    if (!counts) throw new AppError('not_found', `No task "${task._id}"`);
    if (counts.acknowledged >= counts.maxClaimants) {
      try {
        await withCallDeadline(deps.temporal, deps.callTimeoutMs, () =>
          deps.temporal.workflow
            .getHandle(task.caseId)
            .signal(ROLL_CALL_MAYBE_FULL_SIGNAL, { taskId: task._id }),
        );
      } catch (err) {
        // The case ended meanwhile: nothing to tell. Anything else: the person may retry.
        const mapped = asAppError(err);
        if (!(mapped instanceof AppError) || mapped.kind !== 'not_found') throw mapped;
      }
    }
    return viewOf(counts);
  }

  /**
   * Steps found by task id. A task id (`<case>.<step>.<visit>`) belongs to one run of its case,
   * whose definition version never changes (a retried case's new run opens new visits, so new
   * ids), so a kept step is never stale. Without it every report-in to a roll-call read its case
   * for the version (bench:rollcall, one read per person).
   */
  const stepsByTask = new Map<string, StepSpec | null>();

  /** The step a task belongs to, as its case's definition version has it (null if unknown). */
  async function stepOf(task: TaskDocument & { _id: string }): Promise<StepSpec | null> {
    const kept = stepsByTask.get(task._id);
    if (kept !== undefined) return kept;
    const kase = await Case.findById(task.caseId, {
      definitionKey: 1,
      definitionVersion: 1,
    }).lean();
    if (!kase) return null;
    const snapshot = await deps.definitions.snapshot(kase.definitionKey, kase.definitionVersion);
    if (!snapshot) return null;
    const step = allSteps(snapshot.spec).find((s) => s.step.id === task.stepId)?.step ?? null;
    if (stepsByTask.size >= KEPT_STEPS) {
      // Map keeps insertion order: the oldest goes first.
      stepsByTask.delete(stepsByTask.keys().next().value!);
    }
    stepsByTask.set(task._id, step);
    return step;
  }

  /**
   * The check-in (签到) sent with a completion or a roll-call's report-in, checked and measured
   * against the case's place under the step's rule; undefined when none was sent. One sent to a
   * step that asks for none is refused (a position is not collected where nobody needs it); a
   * report-in without one to a roll-call that requires it too (a completion's is refused by the
   * workflow's validator, which knows the step as the case runs it).
   */
  async function checkInOf(
    task: TaskDocument,
    body: unknown,
    action: 'completion' | 'report-in',
  ): Promise<CheckInRecord | undefined> {
    const step = body === undefined && action === 'completion' ? null : await stepOf(task);
    const rule: CheckInRule | null = step ? checkInRuleOf(step) : null;
    if (body === undefined) {
      if (action === 'report-in' && rule?.required) {
        throw new AppError(
          'unprocessable',
          'This roll-call needs a location check-in (签到) with the report-in',
          [
            {
              path: 'body.checkIn',
              message: `required by step "${task.stepId}": send { lat, lng, accuracy } from the phone's location`,
            },
          ],
        );
      }
      return undefined;
    }
    if (!rule) {
      throw new AppError('unprocessable', 'This step does not ask for a check-in', [
        { path: 'body.checkIn', message: `step "${task.stepId}" has no checkIn: leave it out` },
      ]);
    }
    return measureCheckIn(deps.models, body, rule, task.caseUnitId ?? null, new Date());
  }

  /**
   * A task form's unit and person fields must name units and people of the org tree, and its
   * photo fields photos of the case the completing person may use (their shape is the
   * workflow's to check): read only when the form carries any value.
   */
  async function assertFormReferencesExist(
    task: TaskDocument & { _id: string },
    form: Record<string, unknown>,
    actorId: string,
  ): Promise<void> {
    if (Object.keys(form).length === 0) return;
    const step = await stepOf(task);
    const fields = step ? taskFormFieldsOf(step) : [];
    await assertOrgReferences('The form', fields, form, 'form', task.caseUnitId ?? null, deps);
    const photoProblems = await unusablePhotos(
      deps.models.Attachment,
      fields,
      form,
      'form',
      { id: task._id, caseId: task.caseId },
      actorId,
    );
    if (photoProblems.length > 0) {
      throw new AppError('unprocessable', 'The form names photos it cannot use', photoProblems);
    }
  }

  return {
    /**
     * Supervision slips (督办单) in the caller's scope, newest first: by state (`open` awaiting a
     * reply within its time, `overdue` awaiting one past it, `replied`, `moot` closed with its
     * case), colour, the case's unit (with `subtree` every unit below it) and opening time.
     * Plain equality, `$in` and range conditions (indexed; what FerretDB v1 answers).
     */
    async listSupervisions(
      principal: Principal,
      query: SupervisionQuery,
    ): Promise<{ items: SupervisionView[]; page: number; pageSize: number; total: number }> {
      const filter: Record<string, unknown> = { kind: 'supervision' };
      if (query.status === 'open' || query.status === 'overdue') {
        filter.status = 'open';
        filter['supervision.overdue'] = query.status === 'overdue';
      } else if (query.status === 'replied') filter.status = 'completed';
      else if (query.status === 'moot') filter.status = 'cancelled';
      if (query.level !== undefined) filter['supervision.level'] = query.level;
      const units = await unitFilterOf(query, () => deps.scope.units());
      if (units !== undefined) filter.caseUnitId = units;
      const openedAt = rangeOfBounds(query);
      if (openedAt) filter.openedAt = openedAt;
      const scoped = withinScope(
        filter,
        scopeFilter(await deps.scope.resolve(principal), TASK_SCOPE),
      );
      const docs = await Task.find(scoped)
        .sort({ openedAt: -1, _id: 1 })
        .skip(skipOf(query))
        .limit(query.pageSize)
        .lean();
      const total = await totalOf(query, docs.length, () => Task.countDocuments(scoped));
      return {
        items: docs.map(supervisionViewOf),
        page: query.page,
        pageSize: query.pageSize,
        total,
      };
    },

    async listTasks(
      principal: Principal,
      query: {
        page: number;
        pageSize: number;
        view: 'mine' | 'available' | 'scope';
        status?: TaskStatus;
        caseId?: string;
      },
    ): Promise<{ items: TaskView[]; page: number; pageSize: number; total: number }> {
      // The view narrows; the scope always applies (a task you are named on is in it anyway).
      const filter: Record<string, unknown> = {};
      const scope = scopeFilter(await deps.scope.resolve(principal), TASK_SCOPE);
      if (query.view === 'mine') return mine(principal.id, query, scope);
      if (query.view === 'available') {
        filter.candidateUserIds = principal.id;
        filter.status = 'open';
      }
      if (query.status !== undefined) filter.status = query.status;
      if (query.caseId !== undefined) filter.caseId = query.caseId;
      const scoped = withinScope(filter, scope);
      const docs = await Task.find(scoped)
        .sort({ openedAt: -1, _id: 1 })
        .skip(skipOf(query))
        .limit(query.pageSize)
        .lean();
      const total = await totalOf(query, docs.length, () => Task.countDocuments(scoped));
      return { items: docs.map(viewOf), page: query.page, pageSize: query.pageSize, total };
    },

    async getTask(principal: Principal, taskId: string): Promise<TaskView> {
      return viewOf(await findTask(principal, taskId));
    },

    /**
     * What a person needs to do a task: the task, its step (for the form) and its case's process
     * and data. Whoever may see the task may read these, though the case itself may be outside
     * their scope (a party member serving an order of a community they do not belong to).
     */
    async workOf(principal: Principal, taskId: string): Promise<TaskWork> {
      const task = await findTask(principal, taskId);
      const kase = await Case.findById(task.caseId, {
        definitionKey: 1,
        definitionVersion: 1,
        definitionName: 1,
        data: 1,
        category: 1,
        createdAt: 1,
      }).lean();
      const snapshot = kase
        ? await deps.definitions.snapshot(kase.definitionKey, kase.definitionVersion)
        : null;
      return {
        task: viewOf(task),
        // Anywhere in the process: a task inside a parallel branch has its form too.
        step: snapshot
          ? (allSteps(snapshot.spec).find(({ step }) => step.id === task.stepId)?.step ?? null)
          : null,
        caseFields: snapshot?.spec.input.fields ?? [],
        caseName: kase?.definitionName ?? task.definitionKey,
        caseData: (kase?.data as Record<string, unknown> | undefined) ?? {},
        caseCategory: kase?.category ?? null,
        caseCreatedAt: kase ? kase.createdAt.toISOString() : null,
      };
    },

    async act(
      principal: Principal,
      taskId: string,
      action: TaskAction,
      body: {
        outcome?: string;
        form?: Record<string, unknown>;
        comment?: string;
        reason?: string;
        personId?: string;
        /** A location check-in (签到): on a completion, or a roll-call's report-in (claim). */
        checkIn?: unknown;
      },
      idempotencyKey: string | undefined,
      via: ActionChannel = 'api',
    ): Promise<TaskView> {
      const task = await findTask(principal, taskId);
      const onRoster = task.roster !== null && task.roster !== undefined;
      if (onRoster && action === 'claim') return acknowledge(principal, task, body.checkIn);
      if (body.checkIn !== undefined && action !== 'complete') {
        throw new AppError('unprocessable', 'Only a completion or a report-in carries a check-in', [
          { path: 'body.checkIn', message: `a ${action} takes no check-in` },
        ]);
      }
      // A repeat claim by whoever already holds the task (its assignee, a pool's claimant)
      // changes nothing: answered from the stored task, which the workflow wrote before it
      // answered their claim. As an Update each repeat would add about 8 events to the case's
      // history (a pool's answer carries all its candidates: 30 KB for 300) and spend its
      // execution's Update budget, which one person's claim-and-release loop could exhaust.
      if (action === 'claim' && holds(task, principal.id)) return viewOf(task);
      const request: Record<string, unknown> = { taskId, actor: actor(principal, via) };
      if (action === 'complete') {
        request.outcome = body.outcome ?? 'done';
        request.form = body.form ?? {};
        await assertFormReferencesExist(task, body.form ?? {}, principal.id);
        if (body.comment !== undefined) request.comment = body.comment;
        const checkIn = await checkInOf(task, body.checkIn, 'completion');
        if (checkIn) request.checkIn = checkIn;
      } else if (action === 'return') {
        request.reason = body.reason ?? '';
      } else if (action === 'reassign') {
        request.to = await reassignee(principal, body.personId ?? '');
        if (body.reason !== undefined) request.reason = body.reason;
      }
      const result = await update<Omit<TaskSnapshot, 'version'>>(
        principal,
        task.caseId,
        CASE_UPDATES[action],
        request,
        idempotencyKey,
      );
      if (onRoster) {
        // The workflow holds counts only: the people are on the stored task.
        const stored = await Task.findById(taskId, { candidates: 1, claimants: 1 }).lean();
        result.candidates = (stored?.candidates ?? []) as Candidate[];
        result.claimants = (stored?.claimants ?? []) as Candidate[];
      }
      return { ...result, dueAt: earliestDue(result.deadlines) };
    },

    /** Rating, pausing and resuming a case's SLA clock: Updates on the case itself. */
    async actOnCase(
      principal: Principal,
      caseId: string,
      action: CaseAction,
      body: { score?: number; comment?: string; reason?: string },
      idempotencyKey: string | undefined,
      via: ActionChannel = 'api',
    ): Promise<{ status: string; revision: number }> {
      // A case accepted a moment ago may not be projected yet: its start memo says whose it is.
      const owner =
        (await Case.findById(caseId, { unitId: 1, createdBy: 1, raterUserIds: 1 }).lean()) ??
        (await startOf(deps.temporal, caseId))?.memo;
      // The raters a feedback step names (a community's resident representatives) rate a case
      // they would not otherwise see; the workflow checks they are the raters of the open step.
      const scopeFields = action === 'rate' ? RATER_SCOPE : {};
      if (!owner || !canSee(await deps.scope.resolve(principal), owner, scopeFields)) {
        throw new AppError('not_found', `No case "${caseId}" in your scope`);
      }
      const request: Record<string, unknown> = { actor: actor(principal, via) };
      if (action === 'rate') {
        request.score = body.score;
        if (body.comment !== undefined) request.comment = body.comment;
      } else if (body.reason !== undefined) {
        request.reason = body.reason;
      }
      const view = await update<{ status: string; revision: number }>(
        principal,
        caseId,
        CASE_UPDATES[action],
        request,
        idempotencyKey,
      );
      return { status: view.status, revision: view.revision };
    },

    /**
     * The live roll-call (点名) of a case: its own roll-call pool, or those of the cases its
     * sub-process step started per unit (an emergency activation's compounds), each with the
     * people called and whether they have reported, and the totals over all of them. A roll-call
     * is a claim pool every candidate is to claim (`claimants: { max: all }`). A page of units,
     * in the order of their names; `missingOnly` keeps the units still waiting for someone.
     */
    async rollCall(
      principal: Principal,
      caseId: string,
      query: { page: number; pageSize: number; missingOnly?: boolean },
    ): Promise<RollCallView> {
      const scope = await deps.scope.resolve(principal);
      const doc = await Case.findById(caseId, { unitId: 1, createdBy: 1, timeline: 1 }).lean();
      if (!doc || !canSee(scope, doc)) {
        throw new AppError('not_found', `No case "${caseId}" in your scope`);
      }
      const children = new Map<string, string | null>();
      for (const entry of doc.timeline) {
        const detail = (entry.detail ?? {}) as { caseId?: unknown; unitId?: unknown };
        if (entry.type !== 'subprocess.started' || typeof detail.caseId !== 'string') continue;
        children.set(detail.caseId, typeof detail.unitId === 'string' ? detail.unitId : null);
      }
      const caseIds = [caseId, ...children.keys()];
      const [tasks, childCases] = await Promise.all([
        Task.find({ caseId: { $in: caseIds.sort() }, kind: 'claim' })
          .sort({ openedAt: 1, _id: 1 })
          .lean(),
        Case.find({ _id: { $in: [...children.keys()].sort() } }, { status: 1, unitId: 1 }).lean(),
      ]);
      // The latest roll-call pool of each case (a later one replaces an earlier one).
      const pools = new Map<string, TaskDocument & { _id: string }>();
      for (const task of tasks) {
        const candidates = task.candidates as Candidate[];
        if (task.maxClaimants !== candidates.length) continue;
        if (!canSee(scope, task, TASK_SCOPE)) continue;
        pools.set(task.caseId, task);
      }
      // Roster roll-calls: who reported is read from the roster itself (one query for all).
      const rosterTaskIds = [...pools.values()].filter((t) => t.roster).map((t) => t._id);
      const reported = new Map<string, Set<string>>();
      /** Check-ins by roster entry (`<task>:<person>`): how each report-in stood to the place. */
      const checkIns = new Map<string, RollCallCheckIn>();
      if (rosterTaskIds.length > 0) {
        const acknowledged = await RollCallEntry.find(
          { taskId: { $in: rosterTaskIds.sort() }, acknowledgedAt: { $ne: null } },
          { taskId: 1, personId: 1, checkIn: 1 },
        ).lean();
        for (const entry of acknowledged) {
          const set = reported.get(entry.taskId) ?? new Set<string>();
          set.add(entry.personId);
          reported.set(entry.taskId, set);
          const checkIn = entry.checkIn as CheckInRecord | undefined;
          if (checkIn) {
            checkIns.set(`${entry.taskId}:${entry.personId}`, {
              at: checkIn.at,
              accuracy: checkIn.accuracy,
              distance: checkIn.distance,
              limit: checkIn.limit,
              within: checkIn.within,
            });
          }
        }
      }
      const caseOf = new Map(childCases.map((c) => [c._id, c]));
      const entries = [
        ...(pools.has(caseId) ? [{ caseId, unitId: doc.unitId ?? null }] : []),
        ...[...children].map(([id, unitId]) => ({
          caseId: id,
          unitId: unitId ?? caseOf.get(id)?.unitId ?? null,
        })),
      ];
      const unitIds = [...new Set(entries.flatMap((e) => (e.unitId ? [e.unitId] : [])))];
      const unitDocs = await Unit.find({ _id: { $in: unitIds.sort() } }, { name: 1 }).lean();
      const unitNames = new Map(unitDocs.map((u) => [u._id, u.name]));
      const units = entries.map((entry) => {
        const pool = pools.get(entry.caseId);
        const candidates = (pool?.candidates ?? []) as Candidate[];
        const claimed = pool?.roster
          ? (reported.get(pool._id) ?? new Set<string>())
          : new Set(((pool?.claimants ?? []) as Candidate[]).map((c) => c.personId));
        const acknowledged = candidates.filter((c) => claimed.has(c.personId)).length;
        return {
          caseId: entry.caseId,
          unitId: entry.unitId,
          unitName: entry.unitId ? (unitNames.get(entry.unitId) ?? entry.unitId) : '',
          taskId: pool?._id ?? null,
          status: pool?.status ?? caseOf.get(entry.caseId)?.status ?? 'pending',
          expected: candidates.length,
          acknowledged,
          missing: candidates.length - acknowledged,
          candidates,
          claimed,
        };
      });
      units.sort(
        (a, b) => a.unitName.localeCompare(b.unitName, 'zh-CN') || a.caseId.localeCompare(b.caseId),
      );
      const totals = {
        units: units.length,
        running: units.filter((u) => u.status === 'open' || u.status === 'claimed').length,
        pending: units.filter((u) => u.taskId === null).length,
        expected: units.reduce((n, u) => n + u.expected, 0),
        acknowledged: units.reduce((n, u) => n + u.acknowledged, 0),
        missing: units.reduce((n, u) => n + u.missing, 0),
      };
      const listed = query.missingOnly
        ? units.filter((u) => u.missing > 0 || u.taskId === null)
        : units;
      const shown = listed.slice(skipOf(query), skipOf(query) + query.pageSize);
      const personIds = [...new Set(shown.flatMap((u) => u.candidates.map((c) => c.personId)))];
      const people = await Person.find({ _id: { $in: personIds.sort() } }, { name: 1 }).lean();
      const names = new Map(people.map((p) => [p._id, p.name]));
      return {
        caseId,
        totals,
        units: shown.map(({ candidates, claimed, ...unit }) => ({
          ...unit,
          people: candidates.map((c) => ({
            personId: c.personId,
            name: names.get(c.personId) ?? c.personId,
            unitId: c.unitId,
            acknowledged: claimed.has(c.personId),
            checkIn: checkIns.get(`${unit.taskId}:${c.personId}`) ?? null,
          })),
        })),
        page: query.page,
        pageSize: query.pageSize,
        total: listed.length,
      };
    },
  };
}

export type TaskService = ReturnType<typeof createTaskService>;

/** One unit's roll-call as it stands: the people called and whether each has reported. */
export interface RollCallUnit {
  caseId: string;
  unitId: string | null;
  unitName: string;
  /** The roll-call pool; null until the unit's case has opened it. */
  taskId: string | null;
  /** The pool's status; without a pool, the case's (or `pending` before it is projected). */
  status: string;
  expected: number;
  acknowledged: number;
  missing: number;
  people: Array<{
    personId: string;
    name: string;
    unitId: string;
    acknowledged: boolean;
    /** The report-in's check-in (签到), when the roll-call asks for one: never the position. */
    checkIn: RollCallCheckIn | null;
  }>;
}

/** How a report-in's check-in stood to the place (the roll-call view shows no positions). */
export type RollCallCheckIn = Pick<
  CheckInRecord,
  'at' | 'accuracy' | 'distance' | 'limit' | 'within'
>;

export interface RollCallView {
  caseId: string;
  /** Over every unit, not just the page. */
  totals: {
    units: number;
    /** Units whose roll-call is still open. */
    running: number;
    /** Units whose roll-call has not opened yet. */
    pending: number;
    expected: number;
    acknowledged: number;
    missing: number;
  };
  units: RollCallUnit[];
  page: number;
  pageSize: number;
  /** Units listed (after `missingOnly`). */
  total: number;
}

export const SUPERVISION_STATES = ['open', 'overdue', 'replied', 'moot'] as const;
export type SupervisionState = (typeof SUPERVISION_STATES)[number];

export interface SupervisionQuery {
  page: number;
  pageSize: number;
  status?: SupervisionState;
  level?: 'yellow' | 'red';
  /** The case's unit; with `subtree`, it or any unit below it. */
  unitId?: string;
  subtree?: boolean;
  /** Opened from (a Beijing day from its midnight, or an instant), inclusive. */
  from?: string;
  /** Opened until (a Beijing day, inclusive, or an instant, exclusive). */
  to?: string;
}

/** A 督办单 as the 督办 list shows it. */
export interface SupervisionView {
  id: string;
  caseId: string;
  definitionKey: string;
  caseUnitId: string | null;
  name: string;
  level: 'yellow' | 'red';
  state: SupervisionState;
  /** The deadline whose escalation opened it, and that escalation's level. */
  deadline: string;
  escalation: number;
  /** The slip's own deadline passed before a reply (also true of a slip replied late). */
  overdue: boolean;
  candidates: Candidate[];
  repliedBy: Candidate | null;
  reply: string | null;
  dueAt: string | null;
  openedAt: string;
  closedAt: string | null;
}

function supervisionViewOf(doc: TaskDocument & { _id: string }): SupervisionView {
  const facts = (doc.supervision ?? {}) as Partial<SupervisionFacts>;
  const overdue = facts.overdue === true;
  const state: SupervisionState =
    doc.status === 'completed'
      ? 'replied'
      : doc.status === 'cancelled'
        ? 'moot'
        : overdue
          ? 'overdue'
          : 'open';
  const reply = deadlineOfSlip((doc.deadlines ?? []) as DeadlineView[]);
  return {
    id: doc._id,
    caseId: doc.caseId,
    definitionKey: doc.definitionKey,
    caseUnitId: doc.caseUnitId ?? null,
    name: doc.name,
    level: facts.level ?? 'yellow',
    state,
    deadline: facts.deadline ?? '',
    escalation: facts.escalation ?? 0,
    overdue,
    candidates: doc.candidates as Candidate[],
    repliedBy: doc.status === 'completed' ? ((doc.assignee as Candidate | null) ?? null) : null,
    reply: facts.reply ?? null,
    dueAt: reply,
    openedAt: doc.openedAt.toISOString(),
    closedAt: doc.closedAt ? doc.closedAt.toISOString() : null,
  };
}

/** The slip's reply deadline (its only clock). */
function deadlineOfSlip(deadlines: readonly DeadlineView[]): string | null {
  return deadlines[0]?.dueAt ?? null;
}

function viewOf(doc: TaskDocument & { _id: string }): TaskView {
  const deadlines = (doc.deadlines ?? []) as DeadlineView[];
  return {
    id: doc._id,
    caseId: doc.caseId,
    definitionKey: doc.definitionKey,
    caseUnitId: doc.caseUnitId ?? null,
    stepId: doc.stepId,
    name: doc.name,
    kind: doc.kind as TaskView['kind'],
    status: doc.status as TaskStatus,
    candidates: doc.candidates as Candidate[],
    assignee: (doc.assignee as Candidate | null) ?? null,
    claimants: doc.claimants as Candidate[],
    maxClaimants: doc.maxClaimants,
    outcomes: doc.outcomes as TaskView['outcomes'],
    outcome: doc.outcome ?? null,
    deadlines,
    openedAt: doc.openedAt.toISOString(),
    closedAt: doc.closedAt ? doc.closedAt.toISOString() : null,
    dueAt: doc.dueAt ? doc.dueAt.toISOString() : null,
    ...(doc.checkIn ? { checkIn: doc.checkIn as CheckInRecord } : {}),
    ...(doc.prefill ? { prefill: doc.prefill as Record<string, unknown> } : {}),
  };
}

/**
 * The part of a principal's scope that needs no org tree: the items naming it (the owner fields).
 * A subset of what `ScopeResolver.resolve` answers, so an item it lets through is in scope.
 */
function ownerOnlyScope(principal: Principal): OrgScope {
  return { all: false, principalId: principal.id, unitIds: new Set() };
}

/** Whether the user holds an open task: claimed it (its assignee) or is a claimant of its pool. */
function holds(doc: TaskDocument, userId: string): boolean {
  if (doc.status !== 'open' && doc.status !== 'claimed') return false;
  if (doc.kind === 'task') return doc.status === 'claimed' && doc.assigneeUserId === userId;
  return doc.kind === 'claim' && (doc.claimantUserIds ?? []).includes(userId);
}
