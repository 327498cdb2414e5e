import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { CaseStatus, DeadlineView, PublicationView, RatingView } from '../common/case';
import { CASE_WORKFLOW_TYPE } from '../common/case';
import { validateCaseData, withInputDefaults } from '../lang/case-data';
import type { CategorySpec, DefinitionSnapshot } from '../lang/definition';
import type { CaseStartMemo } from '../common/case-start';
import { caseStartMemoOf, caseStartOf } from '../common/case-start';
import type { FieldSpec } from '../lang/definition';
import type { CaseDocument, Models } from '../models';
import type { Principal } from './auth';
import { hasAnyRole } from './auth';
import type { ErrorDetail } from './errors';
import { AppError } from './errors';
import type { AttachmentView } from './attachments';
import { attachmentsOfCase } from './attachments';
import {
  ALL_ROOT,
  categoryFacet,
  isSealedRoot,
  KEYED_STATUSES,
  keyedRoot,
  OVERDUE_FACET,
  ownerRoot,
  processFacet,
  statusFacet,
  unitRoot,
} from '../common/list-days';
import type { ListCursor } from './day-walk';
import { createDayWalker, cursorText, daysOfRange, parseCursor } from './day-walk';
import { openCasesComplete } from '../activities/open-cases';
import type { OrgScope, ScopeResolver } from './scope';
import {
  canSee,
  isNamedRater,
  mayActForUnit,
  scopeFilter,
  unitFilterOf,
  withinScope,
} from './scope';
import { maskIdentifiers, maskValue } from '../lang/mask';
import type { DefinitionService } from './definitions';
import { canonicalJson } from '../common/canonical-json';
import { skipOf, totalOf } from './paging';
import { assertOrgReferences } from './org-references';
import { rangeOfBounds } from './periods';
import { startOf } from './started-case';
import { asAppError, withCallDeadline } from './temporal-errors';

export interface StartCaseRequest {
  definitionKey: string;
  data: Record<string, unknown>;
  unitId?: string;
  /** One of the definition's category codes; required when it has categories. */
  category?: string;
}

export interface StartCaseOptions {
  /** Where the request came from: `api` (default), `open311`, `quick-report`… */
  channel?: string;
  /**
   * The caller is a person verified by an intake rather than a role: `quick-report` (a mobile
   * grid member's one-time code, services/quick-reports.ts), which has checked the place against
   * the member's registration. The process must declare `quickReport` instead of listing the
   * caller's role among its starters.
   */
  intake?: 'quick-report';
}

export interface CaseSummary {
  id: string;
  status: CaseStatus;
  definition: { key: string; version: number; name: string };
  unitId: string | null;
  /** The category code (诉求类别) the case was filed under, for processes with categories. */
  category: string | null;
  currentStep: { id: string; name: string; type: string } | null;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export interface CaseView extends CaseSummary {
  data: Record<string, unknown>;
  createdBy: { kind: string; id: string };
  channel: string;
  /** False while the workflow has accepted the case but not yet written its document. */
  projected: boolean;
  timeline: Array<{
    seq: number;
    type: string;
    at: string;
    actor: { kind: string; id: string };
    stepId?: string;
    via?: string;
    detail?: Record<string, unknown>;
  }>;
  /** SLA clocks of the case and its tasks as they stand. */
  deadlines: DeadlineView[];
  /** The requester's rating; `score: null` means none was given in time. */
  rating: RatingView | null;
  /** What the public board shows of the case, personal data masked. */
  publication: PublicationView | null;
  /** The case that started this one as a sub-process. */
  parentCaseId: string | null;
  /** Photos attached to the case, oldest first: who, when, from which task (no image bytes). */
  attachments: AttachmentView[];
  /**
   * Why the reader sees the case: `scope` (their units, their own case, an admin), or `rater`: a
   * feedback step names (or named) them to rate it (`from`, docs 6.8) and they see what a rater
   * needs: the request with personal data masked, the steps taken without their details, the
   * photos, the rating and the publication; no deadlines, no requester id.
   */
  access: 'scope' | 'rater';
  /** The reader is one of the raters the waiting feedback step names: they may rate it now. */
  namedRater: boolean;
}

/** Case ids are derived from the caller and its Idempotency-Key: no personal data, no guessing. */
export function caseIdFor(principalId: string, idempotencyKey: string): string {
  const digest = createHash('sha256').update(`${principalId}\n${idempotencyKey}`).digest('hex');
  return `case-${digest.slice(0, 24)}`;
}

export function createCaseService(deps: {
  models: Models;
  temporal: Client;
  /** Deadline of each Update or start, in ms (TEMPORAL_CALL_TIMEOUT_MS); past it, a 503. */
  callTimeoutMs: number;
  taskQueue: string;
  definitions: DefinitionService;
  scope: ScopeResolver;
  clock: () => Date;
}) {
  const { Case, Unit, OpenCase } = deps.models;
  const days = createDayWalker({ models: deps.models });
  // Once complete, always complete: the mark is read until it is seen.
  let openIndexed = false;
  async function openIndexReady(): Promise<boolean> {
    if (!openIndexed) openIndexed = await openCasesComplete(deps.models);
    return openIndexed;
  }

  /**
   * `status=open` from the open cases' index (activities/open-cases.ts): one equality per root on
   * its `roots`, with the list's whole filter beside it (the entries carry the filtered fields
   * under the case's names), merged, sorted here; every match is read, so the total is exact.
   */
  async function openPage(
    filter: Record<string, unknown>,
    roots: readonly string[],
    query: CaseListQuery,
    before: ListCursor | undefined,
  ): Promise<CaseListPage> {
    const seen = new Map<string, SummaryFields>();
    for (const root of new Set(roots)) {
      const entries = (await OpenCase.find(
        { ...filter, roots: root },
        SUMMARY_PROJECTION,
      ).lean()) as unknown as SummaryFields[];
      for (const entry of entries) seen.set(entry._id, entry);
    }
    const matches = [...seen.values()]
      .filter(
        (doc) =>
          !before ||
          doc.createdAt.getTime() < before.at ||
          (doc.createdAt.getTime() === before.at && doc._id > before.id),
      )
      .sort(
        (a, b) =>
          b.createdAt.getTime() - a.createdAt.getTime() ||
          (a._id < b._id ? -1 : a._id > b._id ? 1 : 0),
      );
    const skip = skipOf(query);
    const pageDocs = matches.slice(skip, skip + query.pageSize);
    const last = pageDocs[pageDocs.length - 1];
    return {
      items: pageDocs.map(summaryOf),
      page: query.page,
      pageSize: query.pageSize,
      total: matches.length,
      totalIsEstimate: false,
      nextBefore:
        matches.length > skip + query.pageSize && last
          ? cursorText({ at: last.createdAt.getTime(), id: last._id })
          : null,
    };
  }

  /** Same key, same body → the existing case; same key, other body → 422. */
  function assertSameRequest(storedHash: string, requestHash: string): void {
    if (storedHash !== requestHash) {
      throw new AppError(
        'unprocessable',
        'This Idempotency-Key was already used for a different request',
        [{ path: 'headers.idempotency-key', message: 'reused with a different body' }],
      );
    }
  }

  /**
   * A definition's `limit` (书记项目: at most 2 a year per secretary's unit): the unit's cases of
   * the process with the same values of the `per` fields, not rejected, cancelled or failed, must
   * stay below `max`, or the start is refused (409) naming the rule. Counted on the read model: a
   * case started within the same second by another request may not be projected yet (no
   * transactions on FerretDB), so two simultaneous starts can both pass.
   */
  async function assertWithinLimit(
    definition: DefinitionSnapshot,
    unitId: string | null,
    data: Record<string, unknown>,
  ): Promise<void> {
    const limit = definition.spec.limit;
    if (limit === undefined) return;
    const filter: Record<string, unknown> = {
      definitionKey: definition.key,
      unitId,
      status: { $nin: ['rejected', 'cancelled', 'failed'] },
    };
    for (const name of limit.per) filter[`data.${name}`] = data[name] ?? null;
    const count = await Case.countDocuments(filter);
    if (count < limit.max) return;
    throw new AppError(
      'conflict',
      `${limit.rule}: unit "${unitId ?? '(none)'}" already has ${count} case(s) of "${definition.key}" for the same ${limit.per.join(', ')} (at most ${limit.max})`,
      limit.per.map((name) => ({
        path: `data.${name}`,
        message: `at most ${limit.max} cases per unit for the same value`,
      })),
    );
  }

  /**
   * Unit and person fields must name units and people of the org tree: a typo would route the
   * case to nobody.
   */
  async function assertUnitsExist(
    fields: readonly FieldSpec[],
    data: Record<string, unknown>,
    unitId: string | null,
  ) {
    await assertOrgReferences('The case data', fields, data, 'data', unitId, deps);
  }

  /**
   * The list's own conditions, each a plain equality, `$in` or range (indexed, and what FerretDB
   * v1 can answer): unit (or its subtree), processes, createdAt range, overdue and escalated flags
   * (the case's metrics, written by the projection from `deadline.missed` and
   * `deadline.escalated`). Each bad value is a 400 naming its parameter.
   */
  async function listFilterOf(query: CaseListQuery): Promise<Record<string, unknown>> {
    const filter: Record<string, unknown> = {};
    if (query.status) filter.status = query.status;
    const keys = [...new Set(query.definitionKeys ?? [])];
    if (keys.length === 1) filter.definitionKey = keys[0];
    else if (keys.length > 1) filter.definitionKey = { $in: keys.sort() };
    if (query.category) filter.category = query.category;
    const units = await unitFilterOf(query, () => deps.scope.units());
    if (units !== undefined) filter.unitId = units;
    const createdAt = rangeOfBounds(query);
    if (createdAt) filter.createdAt = createdAt;
    // `false` also matches cases whose figures are not written yet (metrics null).
    if (query.overdue !== undefined) filter['metrics.overdue'] = query.overdue ? 1 : { $ne: 1 };
    if (query.escalated !== undefined) {
      filter['metrics.escalated'] = query.escalated ? 1 : { $ne: 1 };
    }
    return filter;
  }

  return {
    async startCase(
      principal: Principal,
      idempotencyKey: string,
      request: StartCaseRequest,
      options: StartCaseOptions = {},
    ): Promise<{ created: boolean; case: CaseSummary }> {
      const channel = options.channel ?? 'api';
      const definition = await deps.definitions.latestSnapshot(request.definitionKey);
      if (!definition) {
        throw new AppError('unprocessable', `No published process "${request.definitionKey}"`, [
          { path: 'body.definitionKey', message: 'unknown process definition' },
        ]);
      }
      if (options.intake === 'quick-report') {
        if (definition.spec.quickReport === undefined) {
          throw new AppError('forbidden', `"${definition.key}" takes no quick reports`);
        }
      } else if (!hasAnyRole(principal, definition.spec.starters)) {
        throw new AppError(
          'forbidden',
          `Starting "${definition.key}" needs one of the roles: ${definition.spec.starters.join(', ')}`,
        );
      }
      // A case in a unit the org tree lacks would be an orphan no unit's scope shows. One `_id`
      // lookup, not the cached tree: a unit just added by another replica is known at once.
      const unitProblems: ErrorDetail[] =
        request.unitId !== undefined && !(await Unit.exists({ _id: request.unitId }))
          ? [{ path: 'body.unitId', message: `no unit "${request.unitId}" in the org tree` }]
          : [];
      if (
        request.unitId !== undefined &&
        unitProblems.length === 0 &&
        options.intake === undefined &&
        !mayActForUnit(principal, await deps.scope.resolve(principal), request.unitId)
      ) {
        throw new AppError('forbidden', `You may not file cases for unit "${request.unitId}"`);
      }
      const categoryProblems = checkCategory(definition.spec.categories, request.category);
      const caseId = caseIdFor(principal.id, idempotencyKey);
      const now = deps.clock();
      // Fields the request leaves out take their default (项目年度: this year), before the check
      // and the limit, so the case counts under the value it is stored with.
      const data =
        typeof request.data === 'object' && request.data !== null && !Array.isArray(request.data)
          ? withInputDefaults(definition.spec.input.fields, request.data, {
              id: caseId,
              unitId: request.unitId ?? null,
              channel,
              definition: definition.key,
              receivedAt: now.toISOString(),
            })
          : request.data;
      const checked = validateCaseData(definition.spec.input.fields, data);
      if (!checked.ok || categoryProblems.length > 0) {
        throw new AppError('unprocessable', 'The case data does not match the process', [
          ...unitProblems,
          ...categoryProblems,
          ...(checked.ok ? [] : checked.problems),
        ]);
      }
      if (unitProblems.length > 0) {
        throw new AppError(
          'unprocessable',
          `No unit "${request.unitId}" in the org tree`,
          unitProblems,
        );
      }
      await assertUnitsExist(definition.spec.input.fields, checked.data, request.unitId ?? null);

      const requestHash = createHash('sha256')
        .update(
          canonicalJson({
            definitionKey: request.definitionKey,
            data: request.data,
            unitId: request.unitId ?? null,
            // Only when given, so requests without one keep the hashes they always had.
            ...(request.category !== undefined ? { category: request.category } : {}),
          }),
        )
        .digest('hex');

      // A case whose workflow is gone from Temporal (past retention) still answers from MongoDB.
      const existing = await Case.findById(caseId).lean();
      if (existing) {
        assertSameRequest(existing.requestHash, requestHash);
        return { created: false, case: summaryOf(existing) };
      }

      await assertWithinLimit(definition, request.unitId ?? null, checked.data);

      const { args, memo, searchAttributes } = caseStartOf({
        caseId,
        definition,
        data: checked.data,
        startedBy: { kind: principal.kind, id: principal.id, roles: principal.roles },
        ...(request.unitId !== undefined ? { unitId: request.unitId } : {}),
        ...(request.category !== undefined ? { category: request.category } : {}),
        requestHash,
        receivedAt: now.toISOString(),
        channel,
      });
      // Under a deadline: a Temporal that is down or stuck answers 503 (the caller retries with
      // the same Idempotency-Key and joins the case if this start did reach the server).
      try {
        await withCallDeadline(deps.temporal, deps.callTimeoutMs, () =>
          deps.temporal.workflow.start(CASE_WORKFLOW_TYPE, {
            taskQueue: deps.taskQueue,
            workflowId: caseId,
            args,
            // The id stays taken once the case has closed: a late retry never files it twice.
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            memo,
            typedSearchAttributes: searchAttributes,
          }),
        );
        // Just started: the workflow has not projected the case yet, and the summary is ours.
        return { created: true, case: pendingSummary(caseId, memo, now) };
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw asAppError(err);
      }
      // A double submit (same caller, same key) joins the case the first one started.
      const description = await withCallDeadline(deps.temporal, deps.callTimeoutMs, () =>
        deps.temporal.workflow.getHandle(caseId).describe(),
      ).catch((err: unknown) => {
        throw asAppError(err);
      });
      const started = caseStartMemoOf(description.memo);
      // Every start writes its memo: a case workflow without one is a broken invariant (500).
      if (!started) throw new Error(`Case workflow ${caseId} carries no start memo`);
      assertSameRequest(started.requestHash, requestHash);
      const projected = await Case.findById(caseId).lean();
      return {
        created: false,
        case: projected
          ? summaryOf(projected)
          : pendingSummary(caseId, started, description.startTime),
      };
    },

    /** Finds a case the principal may see; 404 otherwise, so ids of other people's cases do not leak. */
    async getCase(principal: Principal, caseId: string): Promise<CaseView> {
      const scope = await deps.scope.resolve(principal);
      const doc = await Case.findById(caseId).lean();
      if (doc) {
        const namedRater = (doc.raterUserIds ?? []).includes(principal.id);
        if (canSee(scope, doc)) {
          const attachments = await attachmentsOfCase(deps.models, caseId);
          return { ...viewOf(doc), attachments, access: 'scope', namedRater };
        }
        // A rater a feedback step names (a resident representative) reads this case, and only
        // as much of it as rating needs; anyone else gets the same 404 as for a missing case
        // (before anything else of the case is read).
        if (!isNamedRater(principal, doc)) throw notFound(caseId);
        const attachments = await attachmentsOfCase(deps.models, caseId);
        const snapshot = await deps.definitions.snapshot(doc.definitionKey, doc.definitionVersion);
        const fields = snapshot?.spec.input.fields ?? [];
        return { ...raterViewOf(doc, fields), attachments, access: 'rater', namedRater };
      }
      // Accepted by Temporal but not yet projected (the worker may be busy or restarting).
      const started = await startOf(deps.temporal, caseId);
      if (!started || !canSee(scope, started.memo)) throw notFound(caseId);
      const { memo, startTime } = started;
      return {
        ...pendingSummary(caseId, memo, startTime),
        data: {},
        createdBy: memo.createdBy,
        channel: memo.channel ?? 'api',
        projected: false,
        timeline: [],
        deadlines: [],
        rating: null,
        publication: null,
        parentCaseId: null,
        attachments: [],
        access: 'scope',
        namedRater: false,
      };
    },

    /**
     * The mail a case sent (its outbox), newest first, at most `limit`: what was sent to whom and
     * whether it went. Recipients are personal data: only people who may see the case get here.
     */
    async mailOf(
      principal: Principal,
      caseId: string,
      limit = 100,
    ): Promise<
      Array<{
        template: string;
        to: string;
        subject: string;
        status: string;
        attempts: number;
        createdAt: string;
        sentAt: string | null;
      }>
    > {
      const owner = await Case.findById(caseId, { unitId: 1, createdBy: 1 }).lean();
      if (!owner || !canSee(await deps.scope.resolve(principal), owner)) throw notFound(caseId);
      const docs = await deps.models.Outbox.find({ caseId })
        .sort({ createdAt: -1, _id: 1 })
        .limit(limit)
        .lean();
      return docs.map((d) => ({
        template: d.template,
        to: d.to,
        subject: d.subject,
        status: d.status,
        attempts: d.attempts ?? 0,
        createdAt: d.createdAt.toISOString(),
        sentAt: d.sentAt ? d.sentAt.toISOString() : null,
      }));
    },

    async listCases(principal: Principal, query: CaseListQuery): Promise<CaseListPage> {
      const scope = await deps.scope.resolve(principal);
      const own = await listFilterOf(query);
      const filter = withinScope(own, scopeFilter(scope));
      const before = query.before !== undefined ? parseCursor(query.before) : undefined;
      const roots = listRootsOf(principal, scope, query.unitId);
      if (own.status === 'open' && (await openIndexReady())) {
        return openPage(filter, roots, query, before);
      }
      if (await days.ready()) {
        // A rare filter walks the days of its keyed roots only (common/list-days.ts).
        const facets = rareFacetsOf(query);
        const walkedRoots =
          facets !== null && (await days.keyed()) ? narrowedRoots(roots, facets) : roots;
        // Day by day, newest first (services/day-walk.ts): every read an equality on a day key.
        const walked = await days.page<SummaryFields>({
          kind: 'list',
          keyField: 'listDays',
          roots: walkedRoots,
          filter,
          projection: SUMMARY_PROJECTION,
          sortAt: (doc) => doc.createdAt.getTime(),
          idOf: (doc) => doc._id,
          ...daysOfRange(own.createdAt as { $gte?: Date; $lt?: Date } | undefined),
          skip: skipOf(query),
          pageSize: query.pageSize,
          ...(before ? { before } : {}),
          rootImpliesFilter: rootImpliesFilter(query, scope, roots),
        });
        return {
          items: walked.docs.map(summaryOf),
          page: query.page,
          pageSize: query.pageSize,
          total: walked.total,
          totalIsEstimate: walked.totalIsEstimate,
          nextBefore: walked.nextBefore,
        };
      }
      // A store whose cases do not all carry their day keys yet (the worker backfills them once).
      const docs = await Case.find(
        before ? { $and: [filter, afterCursor('createdAt', before)] } : filter,
        { timeline: 0, data: 0 },
      )
        .sort({ createdAt: -1, _id: 1 })
        .skip(skipOf(query))
        .limit(query.pageSize + 1)
        .lean();
      const pageDocs = docs.slice(0, query.pageSize);
      const last = pageDocs[pageDocs.length - 1];
      const total = await totalOf(query, pageDocs.length, () => Case.countDocuments(filter));
      return {
        items: pageDocs.map(summaryOf),
        page: query.page,
        pageSize: query.pageSize,
        total,
        totalIsEstimate: false,
        nextBefore:
          docs.length > query.pageSize && last
            ? cursorText({ at: last.createdAt.getTime(), id: last._id })
            : null,
      };
    },
  };
}

export type CaseService = ReturnType<typeof createCaseService>;

/** A page of the case list. */
export interface CaseListPage {
  items: CaseSummary[];
  page: number;
  pageSize: number;
  /**
   * Every case the filters match (from the cursor on, with `before`): counted when the list was
   * read to its end, else estimated from the day markers (`totalIsEstimate`).
   */
  total: number;
  totalIsEstimate: boolean;
  /** `before` for the next page; null on the last page (the API answers it as a `next` link). */
  nextBefore: string | null;
}

/**
 * The roots whose day keys hold every case a principal may list (common/list-days.ts): admins
 * everything, or the asked unit's subtree when they may see it; others their own units' subtrees
 * and what they filed themselves.
 */
export function listRootsOf(principal: Principal, scope: OrgScope, unitId?: string): string[] {
  // A unit above the reader's scope: their own roots, which the unit filter then narrows.
  if (unitId !== undefined && (scope.all || scope.unitIds.has(unitId))) return [unitRoot(unitId)];
  if (scope.all) return [ALL_ROOT];
  return [
    ...principal.unitIds.filter((id) => scope.unitIds.has(id)).map(unitRoot),
    ownerRoot(principal.id),
  ];
}

/**
 * The facets one of which every case the list's filter matches carries as a keyed root
 * (common/list-days.ts), the rarest kind first by its nature (chosen order: a keyed status, a
 * missed deadline, a category, the processes); null when the filter has none of them. Several
 * processes: each one's keyed root, merged.
 */
export function rareFacetsOf(query: CaseListQuery): string[] | null {
  if (query.status !== undefined && KEYED_STATUSES.has(query.status)) {
    return [statusFacet(query.status)];
  }
  if (query.overdue === true) return [OVERDUE_FACET];
  if (query.category !== undefined) return [categoryFacet(query.category)];
  const processes = [...new Set(query.definitionKeys ?? [])];
  if (processes.length > 0) return processes.map(processFacet);
  return null;
}

/**
 * The walk's roots for a rare filter: each `*` or unit root narrowed to the facets' keyed roots; a
 * `by:` root (what the reader filed: few cases) is walked as it is.
 */
export function narrowedRoots(roots: readonly string[], facets: readonly string[]): string[] {
  return roots.flatMap((root) =>
    isSealedRoot(root) ? facets.map((facet) => keyedRoot(root, facet)) : [root],
  );
}

/**
 * Whether every case under the list's one root matches the list's filter, so that a deep page may
 * skip days by their counts: a root the reader sees whole (admins, or a unit of their scope, whose
 * units below are in it too), and no filter but the root's own unit subtree and whole Beijing days.
 */
export function rootImpliesFilter(
  query: CaseListQuery,
  scope: OrgScope,
  roots: readonly string[],
): boolean {
  if (roots.length !== 1) return false;
  const root = roots[0]!;
  const seesWhole = scope.all || (query.unitId !== undefined && scope.unitIds.has(query.unitId));
  const unitImplied =
    query.unitId === undefined || (query.subtree === true && root === unitRoot(query.unitId));
  const wholeDays = [query.from, query.to].every(
    (bound) => bound === undefined || /^\d{4}-\d{2}-\d{2}$/.test(bound),
  );
  return (
    seesWhole &&
    unitImplied &&
    wholeDays &&
    query.status === undefined &&
    (query.definitionKeys ?? []).length === 0 &&
    query.category === undefined &&
    query.overdue === undefined &&
    query.escalated === undefined
  );
}

/** Documents after a cursor in the lists' order (`field` descending, `_id` ascending). */
function afterCursor(field: string, cursor: ListCursor): Record<string, unknown> {
  const at = new Date(cursor.at);
  return { $or: [{ [field]: { $lt: at } }, { [field]: at, _id: { $gt: cursor.id } }] };
}

const SUMMARY_PROJECTION = {
  _id: 1,
  status: 1,
  definitionKey: 1,
  definitionVersion: 1,
  definitionName: 1,
  unitId: 1,
  category: 1,
  currentStep: 1,
  createdAt: 1,
  updatedAt: 1,
  closedAt: 1,
} as const;

/** What the case list filters by (see the route's query for the API's spelling). */
export interface CaseListQuery {
  page: number;
  pageSize: number;
  /** A page's `next`: the cases after it (keyset paging; `page` then counts from it). */
  before?: string;
  status?: string;
  /** One or more process keys: a case of any of them. */
  definitionKeys?: readonly string[];
  category?: string;
  /** Cases filed for this unit; with `subtree`, for it or any unit below it. */
  unitId?: string;
  subtree?: boolean;
  /** createdAt from (a Beijing day from its midnight, or an instant), inclusive. */
  from?: string;
  /** createdAt until (a Beijing day, inclusive, or an instant, exclusive). */
  to?: string;
  /** Whether a deadline of the case was missed (metrics.overdue). */
  overdue?: boolean;
  /** Whether an escalation level of the case fired (metrics.escalated). */
  escalated?: boolean;
}

function notFound(caseId: string): AppError {
  return new AppError('not_found', `No case "${caseId}"`);
}

/** A process with categories needs one of its codes; a process without takes none. */
function checkCategory(
  categories: readonly CategorySpec[] | undefined,
  category: string | undefined,
): ErrorDetail[] {
  const problem =
    categories === undefined
      ? category === undefined
        ? null
        : 'this process has no categories'
      : category === undefined
        ? `required: one of ${categories.map((c) => c.code).join(', ')}`
        : categories.some((c) => c.code === category)
          ? null
          : `must be one of: ${categories.map((c) => c.code).join(', ')}`;
  return problem === null ? [] : [{ path: 'body.category', message: problem }];
}

type SummaryFields = Pick<
  CaseDocument,
  | '_id'
  | 'status'
  | 'definitionKey'
  | 'definitionVersion'
  | 'definitionName'
  | 'unitId'
  | 'category'
  | 'currentStep'
  | 'createdAt'
  | 'updatedAt'
  | 'closedAt'
>;

function summaryOf(doc: SummaryFields): CaseSummary {
  return {
    id: doc._id,
    status: doc.status as CaseStatus,
    definition: {
      key: doc.definitionKey,
      version: doc.definitionVersion,
      name: doc.definitionName,
    },
    unitId: doc.unitId ?? null,
    category: doc.category ?? null,
    currentStep: doc.currentStep?.id
      ? {
          id: doc.currentStep.id,
          name: doc.currentStep.name ?? '',
          type: doc.currentStep.type ?? '',
        }
      : null,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
    closedAt: doc.closedAt ? doc.closedAt.toISOString() : null,
  };
}

type StoredCaseView = Omit<CaseView, 'attachments' | 'access' | 'namedRater'>;

function viewOf(doc: CaseDocument): StoredCaseView {
  return {
    ...summaryOf(doc),
    data: doc.data as Record<string, unknown>,
    createdBy: { kind: doc.createdBy.kind, id: doc.createdBy.id },
    channel: doc.channel,
    projected: true,
    timeline: doc.timeline.map((entry) => ({
      seq: entry.seq,
      type: entry.type,
      at: entry.at.toISOString(),
      actor: { kind: entry.actor.kind, id: entry.actor.id },
      ...(entry.stepId ? { stepId: entry.stepId } : {}),
      ...(entry.via ? { via: entry.via } : {}),
      ...(entry.detail ? { detail: entry.detail as Record<string, unknown> } : {}),
    })),
    deadlines: (doc.deadlines ?? []) as DeadlineView[],
    rating: (doc.rating as RatingView | null) ?? null,
    publication: (doc.publication as PublicationView | null) ?? null,
    parentCaseId: doc.parentCaseId ?? null,
  };
}

/**
 * The case as a rater named by a feedback step sees it (docs 6.8): what was asked, with personal
 * fields masked as on the public board and phone or identity numbers masked in free text; the
 * steps taken without their details (forms, recipients); no deadlines; the requester's account
 * id left out. Enough to judge the service, nothing that identifies the requester.
 */
function raterViewOf(doc: CaseDocument, fields: readonly FieldSpec[]): StoredCaseView {
  const full = viewOf(doc);
  const requesterId = full.createdBy.id;
  const anonymous = (actor: { kind: string; id: string }) =>
    actor.id === requesterId ? { kind: actor.kind, id: '' } : actor;
  return {
    ...full,
    data: maskedForRater(fields, full.data),
    createdBy: anonymous(full.createdBy),
    // A photo's entry keeps its ids (no personal data): the page shows the photo in its place.
    timeline: full.timeline.map(({ detail, ...entry }) => ({
      ...entry,
      actor: anonymous(entry.actor),
      ...(entry.type === 'attachment.added' && detail ? { detail } : {}),
    })),
    deadlines: [],
  };
}

/** A case's data for a rater: personal fields masked (lang/mask.ts), free text's numbers too. */
function maskedForRater(
  fields: readonly FieldSpec[],
  data: Record<string, unknown>,
): Record<string, unknown> {
  const byName = new Map(fields.map((f) => [f.name, f]));
  const masked: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(data)) {
    const field = byName.get(name);
    const one = (v: unknown): unknown => {
      if (field?.personal)
        return typeof v === 'object' && v !== null ? null : maskValue(field.type, v);
      return typeof v === 'string' ? maskIdentifiers(v) : v;
    };
    masked[name] = Array.isArray(value) ? value.map(one) : one(value);
  }
  return masked;
}

function pendingSummary(caseId: string, memo: CaseStartMemo, startTime: Date): CaseSummary {
  return {
    id: caseId,
    status: 'open',
    definition: {
      key: memo.definitionKey,
      version: memo.definitionVersion,
      name: memo.definitionName,
    },
    unitId: memo.unitId ?? null,
    category: memo.category ?? null,
    currentStep: null,
    createdAt: startTime.toISOString(),
    updatedAt: startTime.toISOString(),
    closedAt: null,
  };
}
