import { storedMetrics } from '../common/case-measures';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ChannelChoice } from '../lang/vocabulary';
import type {
  CaseProgress,
  NotificationRequest,
  NotificationResult,
  TaskSnapshot,
  TimelineEntry,
} from '../common/case';
import { TemplateError } from '../mail/renderer';
import type { mongo } from 'mongoose';
import { isDuplicateKeyError } from '../models';
import { earliestDue } from '../common/sla';
import type { ActivityDependencies } from './dependencies';
import { createListKeys } from './list-days';
import type { CaseFields as OpenCaseFields } from './open-cases';
import { dropOpenCase, OPEN_CASE_FIELDS, syncOpenCase, writeOpenEntry } from './open-cases';
import { createLookupActivities } from './lookups';
import { createPointsActivities } from './points';
import { createCaseImportActivities } from './case-import';
import { createDepartmentAssessmentActivities } from './department-assessments';
import { createDualReportMemberActivities } from './dual-report-members';
import { createOpenItemActivities } from './open-items';
import { createSecretaryRecordActivities } from './secretary-record';
import { createOrgGrantActivities } from './org-grants';
import { createEvaluationActivities } from './evaluations';
import {
  createOutboxDispatcher,
  insertIgnoringDuplicates,
  insertReportingDuplicates,
  type OutboxRow,
  messageIdOf,
  withoutAddresses,
} from './outbox';
import type { PersonContact } from './channels';
import { PERSON_CONTACT_FIELDS, planChannels } from './channels';
import { createShortMessageRenderer } from '../channels/renderer';
import type { Channel } from '../lang/vocabulary';
import type { EndedStatus } from './case-failures';
import { createCaseFailures } from './case-failures';
import type { RollupCaseFields } from './metric-rollups';
import { ROLLUP_CASE_FIELDS, rollupsComplete, syncCaseRollup } from './metric-rollups';
import { createRollCallActivities, rosterCandidates } from './roll-calls';

/** The case fields a projected revision returns: what its open-cases entry and roll-ups need. */
const PROJECTED_FIELDS = { ...OPEN_CASE_FIELDS, ...ROLLUP_CASE_FIELDS };

type ProjectedCase = OpenCaseFields & RollupCaseFields;

/**
 * How long into an attempt of `recordCaseProgress` the roll-up sync may take a revision the
 * attempt wrote as seen by no other sync (chosen: well under the 30 s start-to-close timeout of
 * workflows/stubs.ts plus its 1 s first back-off, after which a second attempt may run beside it).
 */
const UNSEEN_WINDOW_MS = 20_000;

/** When this attempt began: its schedule time if known (conservative), else now. */
function attemptStartedAt(): number {
  const now = Date.now();
  try {
    return Math.min(now, Context.current().info.currentAttemptScheduledTimestampMs);
  } catch {
    // Called outside an activity (a test or a tool): no other attempt exists.
    return now;
  }
}

/** The fields of a just-created case document as a projected read would return them. */
function projectedOf(created: { toObject(): Record<string, unknown> }): ProjectedCase {
  const stored = created.toObject();
  const picked: Record<string, unknown> = { _id: stored._id };
  for (const field of Object.keys(PROJECTED_FIELDS)) {
    if (stored[field] !== undefined) picked[field] = stored[field];
  }
  return picked as ProjectedCase;
}

/**
 * Every side effect of a case. Built over injected dependencies so tests hand in a real database
 * and a real SMTP sink, and each function is idempotent: Temporal runs activities at least once.
 */
export function createActivities(deps: ActivityDependencies) {
  const { Case, Outbox, Person, Task } = deps.models;
  /** The worker hands in its polling dispatcher; tests and tools get one that wakes on enqueue. */
  const outbox =
    deps.mail.outbox ??
    createOutboxDispatcher({
      models: deps.models,
      transport: deps.mail.transport,
      renderer: deps.mail.renderer,
      from: deps.mail.from,
      clock: deps.clock,
      logger: deps.logger,
      channels: deps.channels ?? null,
    });
  /** The channels besides mail this worker can send (SMS only with a provider). */
  const channelsOffered: ReadonlySet<string> = deps.channels?.channels ?? new Set();
  const shortRenderer = deps.shortRenderer ?? createShortMessageRenderer();
  /** The driver's collections (string ids), for the writes every transition makes. */
  const rawTasks = Task.collection as unknown as mongo.Collection<{ _id: string }>;
  const rawCases = Case.collection as unknown as mongo.Collection<{ _id: string }>;
  const rawOutbox = Outbox.collection as unknown as mongo.Collection<{
    _id: string;
    [field: string]: unknown;
  }>;
  const rawQueue = deps.models.OutboxQueue.collection as unknown as mongo.Collection<{
    _id: string;
    dueAt: Date;
  }>;

  /** Upserts task snapshots newer than what is stored; an older or equal version is skipped. */
  async function projectTasks(tasks: readonly TaskSnapshot[]): Promise<void> {
    for (const task of tasks) {
      const dueAt = earliestDue(task.deadlines);
      const fields = {
        ...task,
        candidateUserIds: task.candidates.flatMap((c) => (c.userId ? [c.userId] : [])),
        assigneeUserId: task.assignee?.userId ?? null,
        claimantUserIds: task.claimants.flatMap((c) => (c.userId ? [c.userId] : [])),
        dueAt: dueAt !== null ? new Date(dueAt) : null,
        openedAt: new Date(task.openedAt),
        closedAt: task.closedAt !== null ? new Date(task.closedAt) : null,
      };
      const { id, ...all } = fields;
      // A roster roll-call's people are written by the roll-call activity and the acknowledging
      // service (activities/roll-calls.ts, services/tasks.ts); its snapshot carries counts only.
      const rest = task.roster
        ? {
            ...rosterFields(all, task.version),
            ...(task.version === 1 ? await rosterCandidates(deps, id) : {}),
          }
        : all;
      try {
        // The driver's own updateOne: the fields are already in their stored types, and this
        // runs on every transition, where mongoose's casting was measurable CPU.
        await rawTasks.updateOne(
          { _id: id, version: { $lt: task.version } },
          { $set: rest },
          { upsert: true },
        );
      } catch (err) {
        // The stored task is already at this version or newer: a retry or a replay.
        if (!isDuplicateKeyError(err)) throw err;
      }
    }
  }

  const failures = createCaseFailures({
    models: deps.models,
    clock: deps.clock,
    logger: deps.logger,
    send: (request) => sendNotification(request),
  });

  const listKeys = createListKeys(deps);
  /**
   * Whether the roll-ups' upgrade backfill is over (its mark, read until seen: it is never taken
   * back while workers run), after which no sync but the projection's runs on a new revision.
   */
  let rollupsSettled = false;
  async function rollupBackfillOver(): Promise<boolean> {
    if (!rollupsSettled) rollupsSettled = await rollupsComplete(deps.models);
    return rollupsSettled;
  }
  const lookupActivities = createLookupActivities(deps);
  const activities = {
    ...lookupActivities,
    ...createPointsActivities(deps),
    ...createCaseImportActivities(deps, listKeys),
    ...createEvaluationActivities(deps),
    ...createDepartmentAssessmentActivities(deps),
    ...createDualReportMemberActivities(deps),
    ...createOpenItemActivities(deps),
    ...createSecretaryRecordActivities(deps),
    ...createOrgGrantActivities(deps),

    /**
     * Projects one revision of a case into its document. Revision 1 inserts the document;
     * revision n applies only on top of n-1, so a retried or replayed call is a no-op.
     */
    async recordCaseProgress(progress: CaseProgress): Promise<void> {
      const startedAt = attemptStartedAt();
      const now = deps.clock();
      const fields = {
        revision: progress.revision,
        status: progress.status,
        currentStep: progress.currentStep,
        updatedAt: now,
        ...(progress.closedAt !== undefined ? { closedAt: new Date(progress.closedAt) } : {}),
        ...(progress.reopen ? { closedAt: null } : {}),
        ...(progress.deadlines !== undefined ? { deadlines: progress.deadlines } : {}),
        ...(progress.rating !== undefined ? { rating: progress.rating } : {}),
        ...(progress.raterUserIds !== undefined ? { raterUserIds: progress.raterUserIds } : {}),
        ...(progress.publication !== undefined ? { publication: progress.publication } : {}),
        ...(progress.metrics !== undefined ? { metrics: storedMetrics(progress.metrics) } : {}),
        ...(progress.servedBy !== undefined ? { servedBy: progress.servedBy } : {}),
      };
      // Tasks first: a retry after a lost case write re-applies them as no-ops.
      if (progress.tasks) await projectTasks(progress.tasks);
      const timeline = progress.events.map(toStoredEntry);
      // The roll-ups follow the case's figures and who served it once the case holds them
      // (metric-rollups.ts); a retry reaches this too, whichever write of the earlier attempt was
      // lost, and a replayed old revision finds them matching the case already. After this
      // attempt's own write, the case as that write returned it spares the sync its read, and
      // the revision just written its token reads (metric-rollups.ts SyncOptions).
      const rollUp = async (written?: ProjectedCase) => {
        if (progress.metrics === undefined && progress.servedBy === undefined) return;
        if (written === undefined) {
          await syncCaseRollup(deps.models, progress.caseId);
          return;
        }
        const unseen = await rollupBackfillOver();
        await syncCaseRollup(deps.models, progress.caseId, {
          read: written,
          ...(unseen
            ? {
                unseenRevision: progress.revision,
                stillUnseen: () => Date.now() - startedAt < UNSEEN_WINDOW_MS,
              }
            : {}),
        });
      };
      // The open cases' index (activities/open-cases.ts): rewritten from the case while it is
      // open (from the case as this attempt's write returned it, else read), dropped by a
      // revision that leaves it not open; a retry syncs from the stored case.
      const indexOpen = async (retry: boolean, written?: ProjectedCase) => {
        if (retry) await syncOpenCase(deps.models, progress.caseId);
        else if (progress.status !== 'open') await dropOpenCase(deps.models, progress.caseId);
        else if (written) await writeOpenEntry(deps.models, progress.caseId, written);
        else await syncOpenCase(deps.models, progress.caseId);
        // The rare states' list keys (rejected, overdue…: activities/list-days.ts).
        await listKeys.syncStateKeys(progress.caseId, retry ? undefined : written);
      };

      if (progress.opening) {
        const { createdAt, ...opening } = progress.opening;
        // The list's day keys (and the board's, if published at once): activities/list-days.ts.
        const keys = await listKeys.keysOf({
          createdAt: new Date(createdAt),
          unitId: opening.unitId ?? null,
          createdBy: opening.createdBy,
          publication: progress.publication ?? null,
          definitionKey: opening.definitionKey,
          category: opening.category ?? null,
        });
        try {
          const created = await Case.create({
            _id: progress.caseId,
            ...opening,
            ...fields,
            ...keys,
            ...(progress.raterUserIds?.length ? { raterReaderUserIds: progress.raterUserIds } : {}),
            createdAt: new Date(createdAt),
            timeline,
          });
          await listKeys.countKeys(keys);
          const written = projectedOf(created);
          await indexOpen(false, written);
          await rollUp(written);
          return;
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
          // Inserted by an earlier attempt whose completion was lost: its markers' stamps may be
          // lost too, so stamp them again (the seals recount); then fall through and verify.
          await listKeys.touchKeys(keys);
        }
      } else {
        // Published in this revision: the board's day keys go with it (activities/list-days.ts).
        const boardDays = progress.publication
          ? await listKeys.boardKeysOf(progress.caseId, progress.publication.publishedAt)
          : undefined;
        // Stored types already (dates as Date): the driver's updateOne, as for tasks.
        // Returning the case as written, which the index and the roll-ups take their fields from:
        // one command, where an update and their two reads of the case were three.
        const written = (await rawCases.findOneAndUpdate(
          { _id: progress.caseId, revision: progress.revision - 1 },
          {
            $set: boardDays ? { ...fields, boardDays } : fields,
            $push: { timeline: { $each: timeline } },
            // The raters named keep reading the case they were asked about once the step ends.
            ...(progress.raterUserIds?.length
              ? { $addToSet: { raterReaderUserIds: { $each: progress.raterUserIds } } }
              : {}),
          },
          // The whole document: FerretDB v1 answers a projection here (`fields`) "not implemented".
          { returnDocument: 'after' },
        )) as ProjectedCase | null;
        if (written !== null) {
          if (boardDays) await listKeys.countKeys({ listDays: [], boardDays });
          await indexOpen(false, written);
          await rollUp(written);
          return;
        }
      }

      const current = await Case.findById(progress.caseId, { revision: 1 }).lean();
      if (current && current.revision >= progress.revision) {
        // A retry of a publishing revision whose markers' stamps may be lost: stamp them again.
        if (!progress.opening && progress.publication) {
          await listKeys.touchKeys({
            listDays: [],
            boardDays: await listKeys.boardKeysOf(
              progress.caseId,
              progress.publication.publishedAt,
            ),
          });
        }
        await indexOpen(true);
        await rollUp();
        return;
      }
      // Revisions are applied in order by one workflow, so this means the store lost a write.
      throw ApplicationFailure.retryable(
        `Case ${progress.caseId} is at revision ${String(current?.revision)}; cannot apply ${progress.revision}`,
        'ProjectionOutOfOrder',
      );
    },

    sendNotification,

    /**
     * Puts one notification for many recipients in the outbox (an announcement to a compound or
     * a county): each recipient under their own business key, people's addresses and names read
     * in one query, enqueued a few at a time (chosen: 16). One activity per slice of up to 500
     * recipients (workflows/run.ts), so an announcement to 10,000 costs 20 activities, not 10,000.
     */
    async enqueueNotifications(request: {
      caseId: string;
      template: string;
      context: Record<string, unknown>;
      names?: Record<string, string>;
      nameLists?: Record<string, string[]>;
      recipients: Array<{ businessKey: string; to: string | { personId: string } }>;
      channels?: ChannelChoice[];
    }): Promise<{ queued: number; noAddress: number }> {
      const { recipients, ...common } = request;
      const personIds = recipients.flatMap((r) =>
        typeof r.to === 'string' ? [] : [r.to.personId],
      );
      const people = new Map(
        (await Person.find({ _id: { $in: personIds } }, PERSON_CONTACT_FIELDS).lean()).map((p) => [
          String(p._id),
          p as PersonContact,
        ]),
      );
      // The same names for every recipient: looked up once for the slice, not once per mail.
      const names = await namesOf(common);
      let queued = 0;
      let noAddress = 0;
      let next = 0;
      const enqueueNext = async (): Promise<void> => {
        while (next < recipients.length) {
          const recipient = recipients[next++]!;
          const known = typeof recipient.to === 'string' ? null : people.get(recipient.to.personId);
          if (typeof recipient.to !== 'string' && !known) {
            noAddress++;
            continue;
          }
          const result = await sendNotification(
            { ...common, businessKey: recipient.businessKey, to: recipient.to },
            { ...(known ? { person: known } : {}), names, batch: true },
          );
          if (result.status === 'no-address') noAddress++;
          else queued++;
        }
      };
      await Promise.all(Array.from({ length: 16 }, () => enqueueNext()));
      outbox.wake();
      return { queued, noAddress };
    },

    /** Mails the administrators that a case failed (workflows/case-workflow.ts). */
    async alertAdmins(request: {
      caseId: string;
      status: EndedStatus;
      reason: string;
    }): Promise<{ sent: number }> {
      return failures.alertAdmins(request);
    },

    /**
     * One reconciler pass (activities/case-failures.ts), run by the reconciler schedule: unclosed
     * cases of ended executions, then the admins mailed of new activity alerts.
     */
    async reconcileCases(): Promise<{ scanned: number; ended: number; alerts: number }> {
      if (!deps.temporal) {
        throw ApplicationFailure.nonRetryable('This worker has no Temporal client', 'NoClient');
      }
      const report = await failures.reconcile(deps.temporal.client, {
        taskQueue: deps.temporal.taskQueue,
      });
      // Activities failing past the alert threshold (activities/stuck-activities.ts): the
      // finished ones cleared first, so no admin is mailed about an activity already over.
      await failures.settleActivityAlerts(deps.temporal.client);
      const alerts = await failures.mailActivityAlerts();
      return { scanned: report.scanned, ended: report.ended.length, alerts: alerts.mailed };
    },

    /** Marks a notification given up after its last retry, so the failure shows in the outbox. */
    async abandonNotification(businessKey: string): Promise<void> {
      await Outbox.updateOne(
        { _id: businessKey, status: { $ne: 'sent' } },
        { $set: { status: 'failed' } },
      );
    },
  };
  return {
    ...activities,
    ...createRollCallActivities(deps, {
      resolvePeople: (request) => lookupActivities.resolvePeople(request),
      sendNotification: (request, prepared) => sendNotification(request, prepared),
      namesOf: (request) => namesOf(request),
      wakeOutbox: () => outbox.wake(),
      enqueueRows: (rows) => enqueueRows(rows),
      abandonNotification: (key) => activities.abandonNotification(key),
      planDeadline: (request) => lookupActivities.planDeadline(request),
    }),
  };

  /**
   * Writes outbox rows a batch collected ({@link sendNotification}'s `collect`) and queues them:
   * one unordered insert of the rows and one of their queue entries, instead of two inserts per
   * mail (each a round trip, a FerretDB transaction and a workflow-worker turn). Idempotent as
   * the single path: a row already there (a retried activity) is left as it is, and queued again
   * only if it is still to be delivered.
   */
  async function enqueueRows(rows: readonly OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    const existing = await insertReportingDuplicates(rawOutbox, rows);
    const queue: OutboxRow[] = [];
    for (const [i, row] of rows.entries()) {
      if (!existing.has(i)) {
        queue.push(row);
        continue;
      }
      const status = (await Outbox.findById(row._id, { status: 1 }).lean())?.status ?? 'pending';
      if (status === 'pending' || status === 'sending') queue.push(row);
    }
    await insertIgnoringDuplicates(
      rawQueue,
      queue.map((row) => ({ _id: row._id, dueAt: row.nextAttemptAt })),
    );
  }

  /**
   * The context entries a notification's `names` and `nameLists` ask for: each person's name (or
   * null), and each list's names in the order the ids were given (one query per list). Names are
   * read only here, so they never enter the workflow history.
   */
  async function namesOf(
    request: Pick<NotificationRequest, 'names' | 'nameLists'>,
  ): Promise<Record<string, unknown>> {
    const names: Record<string, unknown> = {};
    for (const [contextKey, personId] of Object.entries(request.names ?? {})) {
      const person = await Person.findById(personId, { name: 1 }).lean();
      names[contextKey] = person?.name ?? null;
    }
    for (const [contextKey, personIds] of Object.entries(request.nameLists ?? {})) {
      const people = await Person.find({ _id: { $in: personIds } }, { name: 1 }).lean();
      const byId = new Map(people.map((p) => [String(p._id), p.name]));
      names[contextKey] = personIds.flatMap((id) => {
        const name = byId.get(id);
        return name ? [name] : [];
      });
    }
    return names;
  }

  /**
   * Puts one notification in the outbox under its business key (rendered, one document per
   * recipient) and returns at once; the outbox dispatcher delivers it with retries. The name
   * stays `sendNotification` because recorded histories call it.
   */
  async function sendNotification(
    request: NotificationRequest,
    /** What a batch (`enqueueNotifications`) has already read for all its recipients at once. */
    prepared: {
      /** The recipient, read with the batch's people in one query. */
      person?: PersonContact;
      /** The context's names ({@link namesOf}), the same for every mail of the batch. */
      names?: Record<string, unknown>;
      /** A batch reports `queued` and wakes the dispatcher once at its end. */
      batch?: boolean;
      /**
       * Takes the outbox row instead of writing it: the batch writes its rows together
       * ({@link enqueueRows}), one insert per slice instead of two per mail.
       */
      collect?: (row: OutboxRow) => void;
    } = {},
  ): Promise<NotificationResult> {
    // People are named by id in the workflow; their address and name are read only here, so
    // neither enters the workflow history.
    let plan: Array<{ channel: Channel; to: string }>;
    let group = false;
    const context: Record<string, unknown> = { ...request.context };
    if (typeof request.to === 'string') {
      plan = [{ channel: 'mail', to: request.to }];
      context.recipientName ??= '您';
    } else if ('unitId' in request.to) {
      // A unit's group robot: one post, read by the whole group (masked text, no names).
      const unit = await deps.models.Unit.findById(request.to.unitId, {
        name: 1,
        'groupRobot.channel': 1,
      }).lean();
      if (!unit?.groupRobot?.channel) return { status: 'no-address', messageId: null };
      plan = [{ channel: unit.groupRobot.channel, to: `unit:${request.to.unitId}` }];
      group = true;
      context.recipientName = unit.name;
    } else {
      const personId = request.to.personId;
      const person =
        prepared.person ?? (await Person.findById(personId, PERSON_CONTACT_FIELDS).lean());
      if (!person) return { status: 'no-address', messageId: null };
      plan = planChannels(personId, person, request.channels, channelsOffered);
      if (plan.length === 0) return { status: 'no-address', messageId: null };
      context.recipientName = person.name;
      // The late person gets an escalation too (notify: assignee, or a post they hold): the
      // template then tells them of it instead of asking them to supervise their own task.
      if (request.names?.assigneeName === personId) context.recipientIsAssignee = true;
      group = plan[0]!.channel === 'wecom' || plan[0]!.channel === 'dingtalk';
    }
    Object.assign(context, prepared.names ?? (await namesOf(request)));
    const [first, ...fallbacks] = plan as [{ channel: Channel; to: string }];
    // Every channel's text is rendered once here, so a template error fails the activity (a
    // bug in the definition or a template), not the dispatcher later.
    let subject: string;
    try {
      for (const step of plan) {
        if (step.channel !== 'mail') shortRenderer.render(request.template, context, { group });
      }
      subject =
        first.channel === 'mail'
          ? deps.mail.renderer.render(request.template, context).subject
          : shortRenderer.render(request.template, context, { group }).title;
    } catch (err) {
      if (err instanceof TemplateError) {
        throw ApplicationFailure.nonRetryable(err.message, 'TemplateError');
      }
      throw err;
    }
    const messageId = messageIdOf(request.businessKey);
    const now = deps.clock();
    // One document per business key, inserted (an `_id` write; an upsert's filter is a scan
    // of the outbox on FerretDB v1): a retried or replayed enqueue finds it there and changes
    // nothing, except that the mail is queued again if it is still to be delivered (an earlier
    // attempt may have stopped between the two inserts).
    const row: OutboxRow = {
      _id: request.businessKey,
      caseId: request.caseId,
      template: request.template,
      to: first.to,
      subject,
      // The context, not the rendered text: the dispatcher renders it again when it sends.
      // Rows stay small (a few hundred bytes, not the mail's kilobytes), and on FerretDB v1
      // every `_id` read or write of the outbox costs in proportion to the rows' total size.
      contextJson: JSON.stringify(context),
      messageId,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      expiresAt: new Date(now.getTime() + outbox.options.expiryMs),
      createdAt: now,
      // Mail rows keep their old shape: channel fields only where there is something to say.
      ...(first.channel !== 'mail' ? { channel: first.channel } : {}),
      ...(group ? { group: true } : {}),
      ...(fallbacks.length > 0 ? { fallbacks } : {}),
    };
    if (prepared.collect) {
      prepared.collect(row);
      return { status: 'queued', messageId };
    }
    let status = 'pending';
    try {
      await rawOutbox.insertOne(row);
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      status = (await Outbox.findById(request.businessKey, { status: 1 }).lean())?.status ?? status;
    }
    if (status === 'pending' || status === 'sending') {
      await insertIgnoringDuplicates(rawQueue, [{ _id: request.businessKey, dueAt: now }]);
    }
    if (prepared.batch) return { status: 'queued', messageId };
    if (status === 'sent') return { status: 'already-sent', messageId };
    // Delivery is the dispatcher's (activities/outbox.ts): the step does not wait for SMTP.
    outbox.wake();
    return { status: 'queued', messageId };
  }
}

export type CaseActivities = ReturnType<typeof createActivities>;

/**
 * What a roster roll-call's snapshot writes: not its people (the roster's, copied with the
 * first snapshot by rosterCandidates) nor its claimants and count (the acknowledging service's), except that
 * the first snapshot starts them empty.
 */
function rosterFields<T extends Record<string, unknown>>(fields: T, version: number) {
  const kept: Record<string, unknown> = { ...fields };
  for (const key of ['candidates', 'candidateUserIds', 'claimants', 'claimantUserIds']) {
    delete kept[key];
  }
  if (version === 1) Object.assign(kept, { claimants: [], claimantUserIds: [], acknowledged: 0 });
  return kept;
}

function toStoredEntry(entry: TimelineEntry) {
  return { ...entry, at: new Date(entry.at) };
}

export { withoutAddresses };
