import type { Client } from '@temporalio/client';
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import type { CaseFailures } from '../activities/case-failures';
import { createCaseFailures } from '../activities/case-failures';
import type { CaseResume, CaseStatus, CaseWorkflowInput } from '../common/case';
import { CASE_WORKFLOW_TYPE } from '../common/case';
import { caseStartOf } from '../common/case-start';
import type { Logger } from '../common/logger';
import type { DefinitionSnapshot } from '../lang/definition';
import { topLevel } from '../lang/steps';
import type { Models } from '../models';
import { RECONCILE_CASES_WORKFLOW_TYPE } from '../workflows/reconciler';
import type { Principal } from './auth';
import { actorOf, hasAnyRole } from './auth';
import { AppError } from './errors';
import { asAppError, withCallDeadline } from './temporal-errors';

/** How often the reconciler's schedule runs a pass (chosen: a stuck case shows within minutes). */
export const RECONCILE_EVERY_MINUTES = 5;
/**
 * An open case whose document has not changed for this long is checked against Temporal for the
 * stuck list (chosen: shorter than any step's work, longer than a projection's retries).
 */
const STUCK_AFTER_MS = 10 * 60_000;
/** Open cases one stuck listing checks at most, oldest change first (chosen: one describe each). */
const STUCK_SCAN_LIMIT = 200;
/** Open activity alerts one listing returns at most (chosen: more means a common cause). */
const ALERT_LIST_LIMIT = 200;
/**
 * How often a cancellation ends the case again when the terminated run's last write landed in
 * between, and how long it waits before each (chosen: a write takes milliseconds).
 */
const CANCEL_ATTEMPTS = 5;
const CANCEL_RETRY_MS = 200;

/** The longest note an admin may give a cancellation (chosen). */
export const MAX_NOTE_LENGTH = 200;

export interface FailedCaseView {
  id: string;
  status: CaseStatus;
  definition: { key: string; version: number; name: string };
  unitId: string | null;
  /** The step the case failed or stood in, if known. */
  stepId: string | null;
  /** The failure's kind from the timeline (`DefinitionNotFound`, `ExecutionTerminated`…). */
  reason: string | null;
  message: string | null;
  updatedAt: string;
  /** Stuck cases: the execution's state in Temporal (`TERMINATED`, `NOT_FOUND`…). */
  execution?: string;
}

/** An activity failing past the alert threshold, as admins see it. */
export interface ActivityAlertView {
  id: string;
  /** The workflow id: a case's id, or a schedule's or the reconciler's run. */
  caseId: string;
  workflowType: string | null;
  activityType: string;
  /** When its first attempt was scheduled. */
  since: string;
  attempts: number;
  /** The last failure's type and message, cut short. */
  lastError: string | null;
  lastFailedAt: string;
  /** Whether the admins have been mailed of it (by the reconciler's pass). */
  mailed: boolean;
}

/**
 * Cases that failed or got stuck, for administrators: the list, cancel, retry from a step, and
 * the reconciler's schedule and pass. Every call needs the `admin` role.
 */
export function createCaseFailureService(deps: {
  models: Models;
  temporal: Client;
  taskQueue: string;
  callTimeoutMs: number;
  latestSnapshot(key: string): Promise<DefinitionSnapshot | null>;
  clock: () => Date;
  logger: Logger;
}) {
  const { Case, Task } = deps.models;
  // No mail from here: the API has no transport, and the admin who cancels knows already. The
  // worker's reconciler pass mails the admins of what it ends.
  const failures: CaseFailures = createCaseFailures({
    models: deps.models,
    clock: deps.clock,
    logger: deps.logger,
  });

  function assertAdmin(principal: Principal): void {
    if (!hasAnyRole(principal, ['admin'])) {
      throw new AppError('forbidden', 'Failed and stuck cases are for administrators');
    }
  }

  async function executionStatus(caseId: string): Promise<string> {
    try {
      const description = await withCallDeadline(deps.temporal, deps.callTimeoutMs, () =>
        deps.temporal.workflow.getHandle(caseId).describe(),
      );
      return description.status.name;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return 'NOT_FOUND';
      throw asAppError(err);
    }
  }

  const scheduleId = `case-reconciler-${deps.taskQueue}`;

  /** Creates the reconciler's schedule (a pass every few minutes) unless it exists. */
  async function ensureReconcilerSchedule(): Promise<'created' | 'exists'> {
    try {
      await deps.temporal.schedule.create({
        scheduleId,
        spec: { intervals: [{ every: `${RECONCILE_EVERY_MINUTES} minutes` }] },
        action: {
          type: 'startWorkflow',
          workflowType: RECONCILE_CASES_WORKFLOW_TYPE,
          workflowId: `reconcile-cases-${deps.taskQueue}`,
          taskQueue: deps.taskQueue,
          args: [],
          workflowExecutionTimeout: '30 minutes',
        },
        // One pass at a time; a pass missed while Temporal was down is simply the next one.
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
      });
      return 'created';
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning) return 'exists';
      throw err;
    }
  }

  return {
    scheduleId,

    ensureReconcilerSchedule,

    /** Failed cases, newest change first, with the reason their timeline gives. */
    async listFailed(
      principal: Principal,
      query: { limit: number },
    ): Promise<{ items: FailedCaseView[] }> {
      assertAdmin(principal);
      const docs = await Case.find({ status: 'failed' }, { data: 0 })
        .sort({ updatedAt: -1, _id: 1 })
        .limit(query.limit)
        .lean();
      return { items: docs.map((doc) => failedViewOf(doc)) };
    },

    /**
     * Open cases whose document has not changed for {@link STUCK_AFTER_MS} and whose execution
     * is not running in Temporal (closed, or gone): the reconciler ends such cases on its next
     * pass, unless the execution is past retention (`NOT_FOUND`), which only an admin can end.
     */
    async listStuck(principal: Principal): Promise<{ items: FailedCaseView[] }> {
      assertAdmin(principal);
      const before = new Date(deps.clock().getTime() - STUCK_AFTER_MS);
      const docs = await Case.find({ status: 'open', updatedAt: { $lt: before } }, { data: 0 })
        .sort({ updatedAt: 1, _id: 1 })
        .limit(STUCK_SCAN_LIMIT)
        .lean();
      const items: FailedCaseView[] = [];
      for (const doc of docs) {
        const execution = await executionStatus(doc._id);
        if (execution !== 'RUNNING') items.push({ ...failedViewOf(doc), execution });
      }
      return { items };
    },

    /**
     * Activities that have kept failing past the alert threshold and have not succeeded since
     * (activities/stuck-activities.ts), newest first, at most {@link ALERT_LIST_LIMIT}: what is
     * stuck, in which case, since when, how many attempts, the last error.
     */
    async listStuckActivities(principal: Principal): Promise<{ items: ActivityAlertView[] }> {
      assertAdmin(principal);
      const alerts = await deps.models.ActivityAlert.find({ resolvedAt: null })
        .sort({ since: -1 })
        .limit(ALERT_LIST_LIMIT)
        .lean();
      return {
        items: alerts.map((a) => ({
          id: a._id,
          caseId: a.workflowId,
          workflowType: a.workflowType ?? null,
          activityType: a.activityType,
          since: a.since.toISOString(),
          attempts: a.attempts,
          lastError: a.lastError ?? null,
          lastFailedAt: a.lastFailedAt.toISOString(),
          mailed: a.mailedAt !== null,
        })),
      };
    },

    /**
     * The steps a failed case of each process can be retried from: the top-level steps of its
     * latest published version, in order (none when no version is published).
     */
    async retrySteps(
      principal: Principal,
      definitionKeys: readonly string[],
    ): Promise<Map<string, Array<{ id: string; name: string }>>> {
      assertAdmin(principal);
      const steps = new Map<string, Array<{ id: string; name: string }>>();
      for (const key of new Set(definitionKeys)) {
        const snapshot = await deps.latestSnapshot(key);
        steps.set(
          key,
          snapshot
            ? topLevel(snapshot.spec).steps.map((s) => ({ id: s.id, name: s.name ?? s.id }))
            : [],
        );
      }
      return steps;
    },

    /**
     * Cancels a case: a running execution is terminated (no step runs on), then the case is
     * projected `cancelled` with the admin's note, its tasks withdrawn and its clocks stopped.
     */
    async cancelCase(
      principal: Principal,
      caseId: string,
      note: string,
    ): Promise<{ id: string; status: CaseStatus }> {
      assertAdmin(principal);
      if (note.trim().length === 0 || note.length > MAX_NOTE_LENGTH) {
        throw new AppError(
          'invalid_request',
          `A cancellation needs a note of 1 to ${MAX_NOTE_LENGTH} characters`,
          [{ path: 'body.note', message: `1 to ${MAX_NOTE_LENGTH} characters` }],
        );
      }
      const doc = await Case.findById(caseId, { status: 1 }).lean();
      if (!doc) throw new AppError('not_found', `No case "${caseId}"`);
      if (doc.status !== 'open') {
        throw new AppError('conflict', `Case "${caseId}" is ${doc.status}, not open`);
      }
      if ((await executionStatus(caseId)) === 'RUNNING') {
        await withCallDeadline(deps.temporal, deps.callTimeoutMs, () =>
          deps.temporal.workflow.getHandle(caseId).terminate('cancelled by an administrator'),
        ).catch((err: unknown) => {
          if (!(err instanceof WorkflowNotFoundError)) throw asAppError(err);
        });
      }
      const ending = {
        caseId,
        status: 'cancelled' as const,
        reason: 'AdminCancelled',
        message: note,
        actor: actorOf(principal),
        via: 'api' as const,
      };
      // A write the terminated run had in flight (a local activity finishes in the worker after
      // the termination) can land between endCase's read and its write: the case is then still
      // open on a newer revision, and endCase, reading again, ends it on top of that write.
      for (let attempt = 1; ; attempt++) {
        if (await failures.endCase(ending)) return { id: caseId, status: 'cancelled' };
        const now = await Case.findById(caseId, { status: 1 }).lean();
        if (now?.status !== 'open' || attempt >= CANCEL_ATTEMPTS) {
          throw new AppError('conflict', `Case "${caseId}" changed meanwhile; reload it`);
        }
        await new Promise((resolve) => setTimeout(resolve, CANCEL_RETRY_MS));
      }
    },

    /**
     * Retries a failed case from a step (by default the one it failed in): a new run of the case
     * workflow under the same id, with the latest published version of its process, its data,
     * and `resume` so it starts at that step on top of the document the failed run left.
     */
    async retryCase(
      principal: Principal,
      caseId: string,
      request: { stepId?: string },
    ): Promise<{ id: string; status: CaseStatus; stepId: string; definitionVersion: number }> {
      assertAdmin(principal);
      const doc = await Case.findById(caseId).lean();
      if (!doc) throw new AppError('not_found', `No case "${caseId}"`);
      if (doc.status !== 'failed') {
        throw new AppError(
          'conflict',
          `Only a failed case can be retried; "${caseId}" is ${doc.status}`,
        );
      }
      // The failed run mails the admins after projecting the failure, then ends: moments.
      if ((await executionStatus(caseId)) === 'RUNNING') {
        throw new AppError(
          'conflict',
          `Case "${caseId}" still has a running execution (a failed run finishing, or a retry); try again shortly`,
        );
      }
      const definition = await deps.latestSnapshot(doc.definitionKey);
      if (!definition) {
        throw new AppError(
          'unprocessable',
          `No published process "${doc.definitionKey}" to retry with`,
        );
      }
      const tasks = await Task.find({ caseId }, { _id: 1, stepId: 1 }).lean();
      const built = retryInputOf({
        doc,
        taskIds: tasks.map((t) => String(t._id)),
        definition,
        stepId: request.stepId,
        by: actorOf(principal),
      });
      if ('problem' in built) {
        throw new AppError('unprocessable', built.problem, [
          { path: 'body.stepId', message: built.problem },
        ]);
      }
      const { args, memo, searchAttributes } = caseStartOf(built.input);
      try {
        await withCallDeadline(deps.temporal, deps.callTimeoutMs, () =>
          deps.temporal.workflow.start(CASE_WORKFLOW_TYPE, {
            taskQueue: deps.taskQueue,
            workflowId: caseId,
            args,
            // A new run only after a run that did not complete (failed, terminated, timed out).
            workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
            memo,
            typedSearchAttributes: searchAttributes,
          }),
        );
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw new AppError('conflict', `Case "${caseId}" is running or was retried already`);
        }
        throw asAppError(err);
      }
      return {
        id: caseId,
        status: 'open',
        stepId: built.input.resume!.stepId,
        definitionVersion: definition.version,
      };
    },

    /**
     * Runs a reconciler pass now (the admin's button, the chaos script): the schedule is
     * triggered, so the pass runs in a worker, which mails the admins of what it ends.
     */
    async reconcileNow(principal: Principal): Promise<{ triggered: true }> {
      assertAdmin(principal);
      await ensureReconcilerSchedule();
      await withCallDeadline(deps.temporal, deps.callTimeoutMs, () =>
        deps.temporal.schedule.getHandle(scheduleId).trigger(),
      ).catch((err: unknown) => {
        throw asAppError(err);
      });
      return { triggered: true };
    },
  };
}

export type CaseFailureService = ReturnType<typeof createCaseFailureService>;

/** The parts of a case document a retry is built from. */
export interface RetryableCase {
  _id: string;
  definitionKey: string;
  revision: number;
  data?: Record<string, unknown> | null;
  createdBy: { kind: string; id: string };
  unitId?: string | null;
  category?: string | null;
  channel: string;
  requestHash: string;
  createdAt: Date;
  parentCaseId?: string | null;
  timeline: Array<{ seq: number; type: string; stepId?: string | null }>;
}

/**
 * The input of a retry run: the case as its document holds it, the process's latest version,
 * and where to resume. The step must be a top-level step of that version (the interpreter
 * resumes on the main path, not inside a parallel branch); by default the step the case failed
 * in. Step results of the failed run (`steps.<id>.outcome`) are not carried over.
 */
export function retryInputOf(args: {
  doc: RetryableCase;
  taskIds: readonly string[];
  definition: DefinitionSnapshot;
  stepId: string | undefined;
  by: { kind: 'user' | 'apiKey' | 'system' | 'person'; id: string };
}): { input: CaseWorkflowInput } | { problem: string } {
  const { doc, definition } = args;
  const failedAt = [...doc.timeline].reverse().find((e) => e.type === 'case.failed')?.stepId;
  const stepId = args.stepId ?? failedAt ?? undefined;
  const steps = topLevel(definition.spec).steps;
  if (stepId === undefined) {
    return { problem: 'The case has no failing step on record: name the step to resume at' };
  }
  if (!steps.some((s) => s.id === stepId)) {
    return {
      problem: `Version ${definition.version} of "${definition.key}" has no top-level step "${stepId}"`,
    };
  }
  const visits: Record<string, number> = {};
  const count = (id: string, visit: number) => {
    visits[id] = Math.max(visits[id] ?? 0, visit);
  };
  for (const taskId of args.taskIds) {
    const match = /^.+\.([^.]+)\.(\d+)$/.exec(taskId);
    if (match) count(match[1]!, Number(match[2]));
  }
  const entered = new Map<string, number>();
  for (const entry of doc.timeline) {
    if (entry.type !== 'step.entered' || !entry.stepId) continue;
    entered.set(entry.stepId, (entered.get(entry.stepId) ?? 0) + 1);
  }
  for (const [id, n] of entered) count(id, n);
  const resume: CaseResume = {
    stepId,
    revision: doc.revision,
    seq: doc.timeline.reduce((max, e) => Math.max(max, e.seq), 0),
    visits,
    by: args.by,
  };
  return {
    input: {
      caseId: doc._id,
      definition,
      // Stored without the key when empty (mongoose drops empty objects).
      data: doc.data ?? {},
      startedBy: { kind: doc.createdBy.kind as 'user', id: doc.createdBy.id, roles: [] },
      ...(doc.unitId ? { unitId: doc.unitId } : {}),
      ...(doc.category ? { category: doc.category } : {}),
      requestHash: doc.requestHash,
      receivedAt: doc.createdAt.toISOString(),
      channel: doc.channel,
      ...(doc.parentCaseId ? { parentCaseId: doc.parentCaseId } : {}),
      resume,
    },
  };
}

function failedViewOf(doc: {
  _id: string;
  status: string;
  definitionKey: string;
  definitionVersion: number;
  definitionName: string;
  unitId?: string | null;
  currentStep?: { id?: string | null } | null;
  timeline: Array<{ type: string; stepId?: string | null; detail?: unknown }>;
  updatedAt: Date;
}): FailedCaseView {
  const failure = [...doc.timeline]
    .reverse()
    .find((e) => e.type === 'case.failed' || e.type === 'case.cancelled');
  const detail = (failure?.detail ?? {}) as Record<string, unknown>;
  return {
    id: doc._id,
    status: doc.status as CaseStatus,
    definition: {
      key: doc.definitionKey,
      version: doc.definitionVersion,
      name: doc.definitionName,
    },
    unitId: doc.unitId ?? null,
    stepId: failure?.stepId ?? doc.currentStep?.id ?? null,
    reason: typeof detail.reason === 'string' ? detail.reason : null,
    message: typeof detail.message === 'string' ? detail.message : null,
    updatedAt: doc.updatedAt.toISOString(),
  };
}
