import type { Client } from '@temporalio/client';
import { CASE_WORKFLOW_TYPE } from '../common/case';
import type { Actor, DeadlineView, NotificationRequest, NotificationResult } from '../common/case';
import type { Logger } from '../common/logger';
import type { Models } from '../models';

/** The engine as the actor of what the reconciler records. */
const RECONCILER: Actor = { kind: 'system', id: 'reconciler' };

/** How a case ended without closing: `failed`, or `cancelled` for a cancelled execution. */
export type EndedStatus = 'failed' | 'cancelled';

/** Close statuses of an execution that leave its case unclosed (Completed and ContinuedAsNew do not). */
const UNCLOSED: ReadonlyMap<string, { status: EndedStatus; reason: string }> = new Map([
  ['FAILED', { status: 'failed', reason: 'ExecutionFailed' }],
  ['TERMINATED', { status: 'failed', reason: 'ExecutionTerminated' }],
  ['TIMED_OUT', { status: 'failed', reason: 'ExecutionTimedOut' }],
  ['CANCELLED', { status: 'cancelled', reason: 'ExecutionCancelled' }],
]);

/** Case ids looked up in the store at once (chosen: one `$in` query per page of executions). */
const BATCH = 100;
/** Activity alerts one pass mails at most (chosen); the next pass goes on. */
const ALERTS_PER_PASS = 100;
/**
 * How long a local activity's alert may go without a failure before the reconciler takes the
 * activity for over while its execution runs (chosen: 5 minutes). A failing local activity fails
 * at least every 90 s (retries at most a minute apart, workflows/stubs.ts, plus its 30 s
 * timeout); one that succeeded clears its own alert, unless that write was lost.
 */
const LOCAL_ALERT_QUIET_MS = 5 * 60_000;
/** Executions one pass reads from visibility at most (chosen); the next pass goes on. */
const MAX_EXECUTIONS_PER_PASS = 10_000;

const STATUS_NAMES: Record<EndedStatus, string> = { failed: '异常终止', cancelled: '已撤销' };

export interface CaseEnding {
  caseId: string;
  status: EndedStatus;
  /** A short kind (an error type, a close status, `AdminCancelled`): never personal data. */
  reason: string;
  /** A short message to go with it (an admin's note, a failure's message), optional. */
  message?: string;
  actor?: Actor;
  via?: string;
}

export interface ReconcileReport {
  /** Closed executions read from visibility. */
  scanned: number;
  /** Cases projected `failed` or `cancelled` by this pass. */
  ended: Array<{ caseId: string; status: EndedStatus; reason: string }>;
}

export interface CaseFailureDependencies {
  models: Models;
  clock: () => Date;
  logger: Logger;
  /** The outbox send (activities/index.ts `sendNotification`); without it no mail is sent. */
  send?(request: NotificationRequest): Promise<NotificationResult>;
}

/**
 * What is done when a case ends without closing, outside its workflow: the reconciler's pass over
 * Temporal visibility, the projection of an unclosed case, and the administrators' mail. Every
 * function is idempotent (safe to run twice, from a schedule, a test or the chaos script).
 */
export function createCaseFailures(deps: CaseFailureDependencies) {
  const { Case, Person, Task, User } = deps.models;

  /**
   * Mails every administrator (accounts with the `admin` role, not disabled, whose person has an
   * address) that a case failed or was cancelled; once per case, status and person (outbox key).
   */
  async function alertAdmins(request: {
    caseId: string;
    status: EndedStatus;
    reason: string;
  }): Promise<{ sent: number }> {
    if (!deps.send) return { sent: 0 };
    const send = (request: NotificationRequest) => deps.send!(request);
    const people = await adminPeople();
    if (people.length === 0) return { sent: 0 };
    const doc = await Case.findById(request.caseId, { definitionName: 1 }).lean();
    let sent = 0;
    for (const person of people) {
      const result = await send({
        businessKey: `case-${request.status}:${request.caseId}:${person._id}`,
        caseId: request.caseId,
        template: 'case-failed',
        to: { personId: person._id },
        context: {
          caseId: request.caseId,
          processName: doc?.definitionName ?? request.caseId,
          statusName: STATUS_NAMES[request.status],
          reason: request.reason,
        },
      });
      if (result.status !== 'no-address') sent++;
    }
    return { sent };
  }

  /**
   * Projects an unclosed case whose execution has ended: its open tasks cancelled with their
   * clocks stopped, its own clocks stopped, `case.failed` or `case.cancelled` on the timeline and
   * the status set, one revision on top of the last the workflow wrote. Only a case still `open`
   * changes; the answer says whether this call changed it. Call it only for a case whose
   * execution is closed: a running workflow would find its next revision taken.
   */
  async function endCase(ending: CaseEnding): Promise<boolean> {
    const now = deps.clock();
    const doc = await Case.findById(ending.caseId, {
      status: 1,
      revision: 1,
      timeline: 1,
      deadlines: 1,
    }).lean();
    if (!doc || doc.status !== 'open') return false;
    const tasks = await Task.find({
      caseId: ending.caseId,
      status: { $in: ['open', 'claimed'] },
    }).lean();
    for (const task of tasks) {
      await Task.updateOne(
        { _id: task._id, version: task.version },
        {
          $set: {
            version: task.version + 1,
            status: 'cancelled',
            closedAt: now,
            dueAt: null,
            deadlines: stopped(task.deadlines as DeadlineView[]),
          },
        },
      );
    }
    const lastSeq = doc.timeline.reduce((max, entry) => Math.max(max, entry.seq), 0);
    const stepId = (doc as { currentStep?: { id?: string | null } | null }).currentStep?.id;
    const taskEntries = tasks.map((task, i) => ({
      seq: lastSeq + 1 + i,
      type: 'task.cancelled',
      at: now,
      actor: ending.actor ?? RECONCILER,
      stepId: task.stepId,
      detail: { task: task._id },
    }));
    const entry = {
      seq: lastSeq + 1 + tasks.length,
      type: ending.status === 'failed' ? 'case.failed' : 'case.cancelled',
      at: now,
      actor: ending.actor ?? RECONCILER,
      ...(stepId ? { stepId } : {}),
      ...(ending.via ? { via: ending.via } : {}),
      detail: {
        reason: ending.reason,
        ...(ending.message ? { message: ending.message.slice(0, 200) } : {}),
      },
    };
    // On top of the revision read: a second reconciler (or an admin) ending it at the same time
    // finds it changed and leaves it.
    const result = await Case.updateOne(
      { _id: ending.caseId, revision: doc.revision, status: 'open' },
      {
        $set: {
          revision: doc.revision + 1,
          status: ending.status,
          currentStep: null,
          closedAt: now,
          updatedAt: now,
          deadlines: stopped((doc.deadlines ?? []) as DeadlineView[]),
        },
        $push: { timeline: { $each: [...taskEntries, entry] } },
      },
    );
    return result.matchedCount === 1;
  }

  /**
   * One reconciler pass: case executions closed in Temporal visibility as Failed, Terminated,
   * TimedOut or Canceled whose case document is still `open` are ended (`cancelled` for a
   * cancelled one, `failed` otherwise, the close status as reason) and the admins mailed. The
   * latest run of each id is checked before: a case retried since runs again under the same id.
   * Visibility keeps closed executions for the namespace's retention; a reconciler stopped for
   * longer misses the older ones (the admin list of stuck cases still shows them).
   */
  async function reconcile(
    temporal: Client,
    options: { taskQueue?: string } = {},
  ): Promise<ReconcileReport> {
    const query = [
      `WorkflowType = '${CASE_WORKFLOW_TYPE}'`,
      `(ExecutionStatus = 'Failed' OR ExecutionStatus = 'Terminated' OR ExecutionStatus = 'TimedOut' OR ExecutionStatus = 'Canceled')`,
      ...(options.taskQueue ? [`TaskQueue = '${options.taskQueue.replace(/'/g, '')}'`] : []),
    ].join(' AND ');
    const report: ReconcileReport = { scanned: 0, ended: [] };
    let batch: string[] = [];
    const flush = async () => {
      const ids = [...new Set(batch)];
      batch = [];
      const open = await Case.find({ _id: { $in: ids }, status: 'open' }, { _id: 1 }).lean();
      for (const { _id: caseId } of open) {
        const ended = await endIfClosed(temporal, caseId);
        if (ended) report.ended.push(ended);
      }
    };
    for await (const execution of temporal.workflow.list({ query })) {
      report.scanned++;
      batch.push(execution.workflowId);
      if (batch.length >= BATCH) await flush();
      if (report.scanned >= MAX_EXECUTIONS_PER_PASS) break;
    }
    if (batch.length > 0) await flush();
    if (report.ended.length > 0) {
      deps.logger.warn(
        { cases: report.ended.map((e) => e.caseId) },
        'reconciler ended cases whose executions had closed',
      );
    }
    return report;
  }

  /** Ends the case if its latest execution is closed unclosed; mails the admins when it did. */
  async function endIfClosed(
    temporal: Client,
    caseId: string,
  ): Promise<{ caseId: string; status: EndedStatus; reason: string } | null> {
    let closeStatus: string;
    try {
      closeStatus = (await temporal.workflow.getHandle(caseId).describe()).status.name;
    } catch (err) {
      deps.logger.warn(
        { caseId, err: (err as Error).name },
        'reconciler could not describe a case',
      );
      return null;
    }
    const unclosed = UNCLOSED.get(closeStatus);
    if (!unclosed) return null;
    if (!(await endCase({ caseId, ...unclosed }))) return null;
    await alertAdminsQuietly({ caseId, ...unclosed });
    return { caseId, ...unclosed };
  }

  /** The admins' mail, its failure logged rather than thrown: the case is already projected. */
  async function alertAdminsQuietly(request: {
    caseId: string;
    status: EndedStatus;
    reason: string;
  }): Promise<void> {
    try {
      await alertAdmins(request);
    } catch (err) {
      deps.logger.warn(
        { caseId: request.caseId, err: (err as Error).name },
        'admin alert not sent; the outbox keeps it',
      );
    }
  }

  /**
   * Mails the administrators of each activity alert not mailed yet (activities/stuck-activities.ts
   * records them), once per alert and person (outbox key), then marks it mailed: the reconciler's
   * pass runs it, so an alert reaches the admins within one schedule interval. At most
   * {@link ALERTS_PER_PASS} per pass; the next pass goes on.
   */
  async function mailActivityAlerts(): Promise<{ mailed: number }> {
    const { ActivityAlert } = deps.models;
    const alerts = await ActivityAlert.find({ mailedAt: null })
      .sort({ since: 1 })
      .limit(ALERTS_PER_PASS)
      .lean();
    if (alerts.length === 0) return { mailed: 0 };
    const people = await adminPeople();
    const now = deps.clock();
    for (const alert of alerts) {
      if (deps.send && alert.resolvedAt === null) {
        const doc = await Case.findById(alert.workflowId, { definitionName: 1 }).lean();
        for (const person of people) {
          await deps.send({
            businessKey: `activity-stuck:${alert._id}:${person._id}`,
            caseId: alert.workflowId,
            template: 'activity-stuck',
            to: { personId: person._id },
            context: {
              caseId: alert.workflowId,
              processName: doc?.definitionName ?? runNameOf(alert.workflowType),
              activityName: alert.activityType,
              minutes: Math.max(0, Math.floor((now.getTime() - alert.since.getTime()) / 60_000)),
              attempts: alert.attempts,
              errorKind: (alert.lastError ?? 'Error').split(':')[0]!,
            },
          });
        }
      }
      await ActivityAlert.updateOne({ _id: alert._id }, { $set: { mailedAt: now } });
    }
    return { mailed: alerts.length };
  }

  /** The people of the administrators' accounts (enabled, with the `admin` role) who have an address. */
  async function adminPeople(): Promise<Array<{ _id: string }>> {
    const admins = await User.find({ roles: 'admin', disabled: { $ne: true } }, { _id: 1 }).lean();
    if (admins.length === 0) return [];
    const people = await Person.find(
      { userId: { $in: admins.map((a) => a._id) } },
      { _id: 1, email: 1 },
    ).lean();
    return people.filter((p) => p.email);
  }

  /**
   * Clears the open alerts whose activity is no longer running: its execution has closed, or the
   * execution no longer lists it as pending (it succeeded or failed for good, and the worker's own
   * clearing was lost: a worker killed between the success and the write, or a store error that
   * the interceptor logs and drops). Without this an alert could stay listed, and the admins' page
   * say "stuck", for an activity that has long finished. A local activity's alert, never listed
   * as pending, clears once it has not failed for {@link LOCAL_ALERT_QUIET_MS}. At most {@link ALERTS_PER_PASS} per pass,
   * oldest first; one describe per execution.
   */
  async function settleActivityAlerts(temporal: Client): Promise<{ settled: number }> {
    const { ActivityAlert } = deps.models;
    const open = await ActivityAlert.find(
      { resolvedAt: null },
      { workflowId: 1, runId: 1, activityId: 1, local: 1, lastFailedAt: 1 },
    )
      .sort({ since: 1 })
      .limit(ALERTS_PER_PASS)
      .lean();
    const pendingByRun = new Map<string, Set<string> | null | undefined>();
    let settled = 0;
    for (const alert of open) {
      const run = `${alert.workflowId}:${alert.runId}`;
      if (!pendingByRun.has(run)) {
        pendingByRun.set(run, await pendingActivitiesOf(temporal, alert.workflowId, alert.runId));
      }
      const pending = pendingByRun.get(run);
      // undefined: Temporal could not be asked; leave the alert for the next pass.
      if (pending === undefined || pending?.has(alert.activityId)) continue;
      // A local activity is never listed as pending: while its execution runs, it is over once
      // it has stopped failing.
      const quietSince = deps.clock().getTime() - LOCAL_ALERT_QUIET_MS;
      if (pending !== null && alert.local && alert.lastFailedAt.getTime() > quietSince) continue;
      const cleared = await ActivityAlert.updateOne(
        { _id: alert._id, resolvedAt: null },
        { $set: { resolvedAt: deps.clock(), resolution: 'gone' } },
      );
      settled += cleared.modifiedCount;
    }
    return { settled };
  }

  /**
   * The ids of the activities an execution has pending; null when the execution has closed or
   * is not found (nothing of it is running); undefined when Temporal could not be asked.
   */
  async function pendingActivitiesOf(
    temporal: Client,
    workflowId: string,
    runId: string,
  ): Promise<Set<string> | null | undefined> {
    try {
      const description = await temporal.workflow
        .getHandle(workflowId, runId === '-' ? undefined : runId)
        .describe();
      if (description.status.name !== 'RUNNING') return null;
      return new Set(
        (description.raw.pendingActivities ?? []).map((a) => a.activityId ?? '').filter(Boolean),
      );
    } catch (err) {
      if ((err as Error).name === 'WorkflowNotFoundError') return null;
      deps.logger.warn({ err: (err as Error).name }, 'activity alert not settled');
      return undefined;
    }
  }

  return {
    alertAdmins,
    alertAdminsQuietly,
    endCase,
    reconcile,
    endIfClosed,
    mailActivityAlerts,
    settleActivityAlerts,
  };
}

export type CaseFailures = ReturnType<typeof createCaseFailures>;

/** What a mail calls a run whose case document cannot be read: its kind, in words. */
function runNameOf(workflowType: string | null | undefined): string {
  if (workflowType === CASE_WORKFLOW_TYPE) return '事项';
  return workflowType ? `后台任务 ${workflowType}` : '后台任务';
}

function stopped(deadlines: readonly DeadlineView[] | undefined): DeadlineView[] {
  return (deadlines ?? []).map((d) => ({ ...d, stopped: true }));
}
