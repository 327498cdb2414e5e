import { createHash, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type {
  ActingPrincipal,
  Candidate,
  DeadlineView,
  TaskSnapshot,
  TaskStatus,
} from '../../common/case';
import { CASE_UPDATES, REJECTION } from '../../common/case';
import { earliestDue } from '../../common/sla';
import type { Models, TaskDocument } from '../../models';
import type { Principal } from '../auth';
import type { ErrorDetail } from '../errors';
import { AppError } from '../errors';
import type { ScopeResolver, ScopeFields } from '../scope';
import { canSee, scopeFilter } from '../scope';
import { startOf } from './cases';
import { skipOf, totalOf } from './paging';

export type TaskView = Omit<TaskSnapshot, 'version'> & { dueAt: string | null };

export type TaskAction = 'claim' | 'release' | 'complete' | 'return' | 'reassign';
export type CaseAction = 'rate' | 'pause' | 'resume';

/** Tasks are in scope by the case's unit, and always for the people they name. */
const TASK_SCOPE: ScopeFields = {
  unitField: 'caseUnitId',
  ownerFields: ['candidateUserIds', 'assigneeUserId', 'claimantUserIds'],
};

const REJECTION_KINDS: Record<string, AppError['kind']> = {
  [REJECTION.notFound]: 'not_found',
  [REJECTION.forbidden]: 'forbidden',
  [REJECTION.conflict]: 'conflict',
  [REJECTION.invalid]: 'unprocessable',
};

/**
 * Staff work lists and the actions on tasks and cases. Reads come from the `tasks` read model;
 * every action is an Update on the case's workflow, whose validator answers at once (403, 409,
 * 422). The same Idempotency-Key gives the same Update id, so a retried action is done once.
 */
export function createTaskService(deps: {
  models: Models;
  temporal: Client;
  scope: ScopeResolver;
}) {
  const { Task, Case, Person, Post } = deps.models;

  async function findTask(
    principal: Principal,
    taskId: string,
  ): Promise<TaskDocument & { _id: string }> {
    const doc = await Task.findById(taskId).lean();
    if (!doc || !canSee(await deps.scope.resolve(principal), doc, TASK_SCOPE)) {
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
      return await deps.temporal.workflow
        .getHandle(caseId)
        .executeUpdate<R, [object]>(name, { args: [request], updateId });
    } catch (err) {
      throw asAppError(err);
    }
  }

  function actor(principal: Principal): ActingPrincipal {
    return { kind: principal.kind, id: principal.id, roles: principal.roles, via: 'api' };
  }

  /** A person as a candidate: their account and the unit of their first post. */
  async function candidateFor(personId: string): Promise<Candidate> {
    const person = await Person.findById(personId, { userId: 1 }).lean();
    if (!person) {
      throw new AppError('unprocessable', 'Unknown person', [
        { path: 'body.personId', message: `no person "${personId}"` },
      ]);
    }
    const post = await Post.findOne({ personId }).sort({ _id: 1 }).lean();
    return { personId, userId: person.userId ?? null, unitId: post?.unitId ?? '' };
  }

  return {
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
      if (query.view === 'mine') {
        filter.$or = [{ assigneeUserId: principal.id }, { claimantUserIds: principal.id }];
        // A work list: what is still to do, unless the caller asks for a status (done work).
        filter.status = { $in: ['open', 'claimed'] };
      } else if (query.view === 'available') {
        filter.candidateUserIds = principal.id;
        filter.status = 'open';
      }
      if (query.status !== undefined) filter.status = query.status;
      if (query.caseId !== undefined) filter.caseId = query.caseId;
      const scoped = {
        $and: [filter, scopeFilter(await deps.scope.resolve(principal), TASK_SCOPE)],
      };
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
      },
      idempotencyKey: string | undefined,
    ): Promise<TaskView> {
      const task = await findTask(principal, taskId);
      const request: Record<string, unknown> = { taskId, actor: actor(principal) };
      if (action === 'complete') {
        request.outcome = body.outcome ?? 'done';
        request.form = body.form ?? {};
        if (body.comment !== undefined) request.comment = body.comment;
      } else if (action === 'return') {
        request.reason = body.reason ?? '';
      } else if (action === 'reassign') {
        request.to = await candidateFor(body.personId ?? '');
        if (body.reason !== undefined) request.reason = body.reason;
      }
      const result = await update<Omit<TaskSnapshot, 'version'>>(
        principal,
        task.caseId,
        CASE_UPDATES[action],
        request,
        idempotencyKey,
      );
      return { ...result, dueAt: earliestDue(result.deadlines) };
    },

    /** Rating, pausing and resuming a case's SLA clock: Updates on the case itself. */
    async actOnCase(
      principal: Principal,
      caseId: string,
      action: CaseAction,
      body: { score?: number; comment?: string; reason?: string },
      idempotencyKey: string | undefined,
    ): Promise<{ status: string; revision: number }> {
      // A case accepted a moment ago may not be projected yet: its start memo says whose it is.
      const owner =
        (await Case.findById(caseId, { unitId: 1, createdBy: 1 }).lean()) ??
        (await startOf(deps.temporal, caseId))?.memo;
      if (!owner || !canSee(await deps.scope.resolve(principal), owner)) {
        throw new AppError('not_found', `No case "${caseId}" in your scope`);
      }
      const request: Record<string, unknown> = { actor: actor(principal) };
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
  };
}

export type TaskService = ReturnType<typeof createTaskService>;

/** Maps an Update's rejection to the HTTP error the caller should see. */
export function asAppError(err: unknown): unknown {
  if (err instanceof WorkflowNotFoundError) {
    return new AppError('conflict', 'The case is no longer running');
  }
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const failure = err.cause;
    const kind = REJECTION_KINDS[failure.type ?? ''];
    if (kind) {
      const problems = (failure.details?.[0] ?? []) as ErrorDetail[];
      return new AppError(
        kind,
        failure.message,
        Array.isArray(problems)
          ? problems.map((p) => ({ path: `body.${p.path}`, message: p.message }))
          : [],
      );
    }
  }
  if (
    err instanceof Error &&
    /already completed|workflow execution.*(completed|closed)/i.test(err.message)
  ) {
    return new AppError('conflict', 'The case is no longer running');
  }
  return err;
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
    kind: doc.kind as 'task' | 'claim',
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
  };
}
