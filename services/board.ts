import { unitsAtOrBelow } from '../common/org-tree';
import { allSteps } from '../lang/steps';
import type { AttachmentFile, AttachmentVariant } from './attachments';
import { attachmentsOfCase, blobOf } from './attachments';
import type { DefinitionService } from './definitions';
import type { Models } from '../models';
import { maskIdentifiers } from '../lang/mask';
import { ALL_ROOT, unitRoot } from '../common/list-days';
import { createDayWalker, cursorText, parseCursor } from './day-walk';
import { AppError } from './errors';
import type { PageRequest } from './paging';
import { skipOf, totalOf } from './paging';
import type { DirectoryUnit, UnitDirectoryReader } from './unit-directory';
import { createUnitDirectory } from './unit-directory';

/**
 * The public board (公示): cases a `publish` step put on the wall, for anyone, without signing in.
 * What it shows was masked when the case was published (personal fields of the process); the
 * board masks phone and identity numbers in every shown value (lang/mask.ts maskIdentifiers) and
 * adds where (down to the compound, never the building or the floor), when, how long it
 * took and the score, and nothing else of the case: no requester, no comment, no timeline.
 */

export interface BoardQuery extends PageRequest {
  /** A page's `next`: the cases published before it (keyset paging). */
  before?: string;
  /** A unit (a community, a street…): its cases and those of every unit below it. */
  unitId?: string;
  category?: string;
  definitionKey?: string;
}

export interface BoardItem {
  id: string;
  process: { key: string; name: string };
  category: string | null;
  /** From the top of the tree down to the compound the case was filed for, at most. */
  place: Array<{ id: string; name: string; type: string }>;
  title: string;
  outcome: string | null;
  fields: Array<{ label: string; value: string }>;
  status: string;
  receivedAt: string;
  publishedAt: string;
  closedAt: string | null;
  /** Receipt to closing, in whole minutes; null while open. */
  handlingMinutes: number | null;
  /** The requester's score (1–5); null when not rated (yet, or in time). */
  score: number | null;
}

/** One published case with its photos, when its publish step shows them (`photos: true`). */
export interface BoardCase extends BoardItem {
  photos: Array<{ id: string; url: string; thumbnailUrl: string }>;
}

export interface BoardService {
  list(query: BoardQuery): Promise<{
    items: BoardItem[];
    /** Exact when `totalIsEstimate` is false (see services/cases.ts CaseListPage). */
    total: number;
    totalIsEstimate: boolean;
    /** `before` for the next page; null on the last (the API answers it as a `next` link). */
    nextBefore: string | null;
    page: number;
    pageSize: number;
  }>;
  get(id: string): Promise<BoardCase>;
  /** A photo of a published case whose publish step shows photos; 404 for any other. */
  photo(caseId: string, attachmentId: string, variant: AttachmentVariant): Promise<AttachmentFile>;
}

/** Unit types the board may name; below a compound (楼栋, 单元, 楼层) would point at a home. */
const SHOWN_UNIT_TYPES = new Set([
  'county',
  'street',
  'community',
  'grid',
  'compound',
  'cobuilding',
  'department',
]);

type TreeUnit = DirectoryUnit;

interface StoredCase {
  _id: string;
  status: string;
  definitionKey: string;
  definitionName: string;
  category?: string | null;
  unitId?: string | null;
  createdAt: Date;
  closedAt?: Date | null;
  rating?: { score: number | null } | null;
  publication?: {
    title: string;
    outcome: string | null;
    fields: Array<{ label: string; value: string }>;
    publishedAt: string;
  } | null;
}

const PROJECTION = {
  _id: 1,
  status: 1,
  definitionKey: 1,
  definitionName: 1,
  category: 1,
  unitId: 1,
  createdAt: 1,
  closedAt: 1,
  rating: 1,
  publication: 1,
} as const;

export function createBoardService(deps: {
  models: Pick<
    Models,
    | 'Case'
    | 'Unit'
    | 'OrgRevision'
    | 'ListDay'
    | 'ListDaySeal'
    | 'ListDayDirty'
    | 'Attachment'
    | 'AttachmentBlob'
  >;
  clock: () => Date;
  /** The unit tree as of the org revision (the org snapshot, shared with metrics and points). */
  units?: UnitDirectoryReader;
  /** The versions cases run, to read whether a publish step shows photos; none shown without. */
  definitions?: Pick<DefinitionService, 'snapshot'>;
}): BoardService {
  const { Case } = deps.models;

  /**
   * Whether the board shows the case's photos: the publish step that put it on the board (the
   * last `case.published` of its timeline, in the version the case runs) says `photos: true`.
   * Decided when read, from the definition, so nothing about photos is stored with the case.
   */
  async function showsPhotos(id: string): Promise<boolean> {
    if (!deps.definitions) return false;
    const doc = await Case.findOne(
      { _id: id, publication: { $ne: null } },
      { definitionKey: 1, definitionVersion: 1, timeline: 1 },
    ).lean();
    if (!doc) return false;
    const published = [...(doc.timeline ?? [])]
      .reverse()
      .find((entry) => entry.type === 'case.published');
    if (!published?.stepId) return false;
    const snapshot = await deps.definitions.snapshot(doc.definitionKey, doc.definitionVersion);
    const step = snapshot
      ? allSteps(snapshot.spec).find((s) => s.step.id === published.stepId)?.step
      : undefined;
    return step?.type === 'publish' && step.photos;
  }
  const days = createDayWalker({ models: deps.models });
  const units = deps.units ?? createUnitDirectory({ models: deps.models, clock: deps.clock });

  function placeOf(byId: ReadonlyMap<string, TreeUnit>, unitId: string | null | undefined) {
    const path: TreeUnit[] = [];
    const seen = new Set<string>();
    for (let at = unitId ?? null; at !== null && !seen.has(at);) {
      seen.add(at);
      const unit = byId.get(at);
      if (!unit) break;
      path.unshift(unit);
      at = unit.parentId;
    }
    // Cut at the first unit below a compound: the board never names a building or a floor.
    const cut = path.findIndex((u) => !SHOWN_UNIT_TYPES.has(u.type));
    return (cut === -1 ? path : path.slice(0, cut)).map(({ id, name, type }) => ({
      id,
      name,
      type,
    }));
  }

  function itemOf(byId: ReadonlyMap<string, TreeUnit>, doc: StoredCase): BoardItem {
    const publication = doc.publication!;
    const closedAt = doc.closedAt ? new Date(doc.closedAt) : null;
    return {
      id: doc._id,
      process: { key: doc.definitionKey, name: doc.definitionName },
      category: doc.category ?? null,
      place: placeOf(byId, doc.unitId),
      title: publication.title,
      outcome: publication.outcome,
      // Free text typed by residents may carry a phone or identity number even in a field that
      // is not personal; masked on the way out, so cases published earlier are covered too.
      fields: publication.fields.map(({ label, value }) => ({
        label,
        value: maskIdentifiers(value),
      })),
      status: doc.status,
      receivedAt: new Date(doc.createdAt).toISOString(),
      publishedAt: publication.publishedAt,
      closedAt: closedAt?.toISOString() ?? null,
      handlingMinutes: closedAt
        ? Math.max(0, Math.round((closedAt.getTime() - new Date(doc.createdAt).getTime()) / 60_000))
        : null,
      score: typeof doc.rating?.score === 'number' ? doc.rating.score : null,
    };
  }

  return {
    async list(query) {
      const tree = await units.knowing(query.unitId);
      const byId = tree.byId;
      const filter: Record<string, unknown> = { publication: { $ne: null } };
      if (query.unitId !== undefined) {
        if (!byId.has(query.unitId)) {
          throw new AppError('not_found', `No unit ${query.unitId}`);
        }
        filter.unitId = { $in: [...unitsAtOrBelow(tree.children, [query.unitId])].sort() };
      }
      if (query.category !== undefined) filter.category = query.category;
      if (query.definitionKey !== undefined) filter.definitionKey = query.definitionKey;
      const before = query.before !== undefined ? parseCursor(query.before) : undefined;
      if (await days.ready()) {
        // Day by day of publication, newest first (services/day-walk.ts).
        const walked = await days.page<StoredCase>({
          kind: 'board',
          keyField: 'boardDays',
          roots: [query.unitId !== undefined ? unitRoot(query.unitId) : ALL_ROOT],
          filter,
          projection: PROJECTION,
          sortAt: (doc) => Date.parse(doc.publication!.publishedAt),
          idOf: (doc) => doc._id,
          skip: skipOf(query),
          pageSize: query.pageSize,
          ...(before ? { before } : {}),
          // Published and within the unit is what the root's board keys say: only a category or
          // a process narrows further.
          rootImpliesFilter: query.category === undefined && query.definitionKey === undefined,
        });
        return {
          items: walked.docs.map((doc) => itemOf(byId, doc)),
          total: walked.total,
          totalIsEstimate: walked.totalIsEstimate,
          nextBefore: walked.nextBefore,
          page: query.page,
          pageSize: query.pageSize,
        };
      }
      // A store whose cases do not all carry their day keys yet (the worker backfills them once).
      if (before) {
        filter.$or = [
          { 'publication.publishedAt': { $lt: new Date(before.at).toISOString() } },
          { 'publication.publishedAt': new Date(before.at).toISOString(), _id: { $gt: before.id } },
        ];
      }
      const found = (await Case.find(filter, PROJECTION)
        .sort({ 'publication.publishedAt': -1, _id: 1 })
        .skip(skipOf(query))
        .limit(query.pageSize + 1)
        .lean()) as unknown as StoredCase[];
      const docs = found.slice(0, query.pageSize);
      const last = docs[docs.length - 1];
      const total = await totalOf(query, docs.length, () => Case.countDocuments(filter));
      return {
        items: docs.map((doc) => itemOf(byId, doc)),
        total,
        totalIsEstimate: false,
        nextBefore:
          found.length > query.pageSize && last
            ? cursorText({ at: Date.parse(last.publication!.publishedAt), id: last._id })
            : null,
        page: query.page,
        pageSize: query.pageSize,
      };
    },

    async get(id) {
      const doc = await Case.findOne({ _id: id, publication: { $ne: null } }, PROJECTION).lean();
      // An unpublished case is not on the board: the same answer as one that does not exist.
      if (!doc) throw new AppError('not_found', `No published case ${id}`);
      const photos = (await showsPhotos(id))
        ? (await attachmentsOfCase(deps.models, id)).map((a) => ({
            id: a.id,
            url: `/api/v1/public/board/${id}/photos/${a.id}`,
            thumbnailUrl: `/api/v1/public/board/${id}/photos/${a.id}/thumbnail`,
          }))
        : [];
      return { ...itemOf((await units.get()).byId, doc), photos };
    },

    async photo(caseId, attachmentId, variant) {
      const attachment = await deps.models.Attachment.findById(attachmentId, { caseId: 1 }).lean();
      // Another case's photo, an unpublished case's, or one whose publication hides photos: all
      // the same 404, so the board says nothing about what exists behind it.
      if (!attachment || attachment.caseId !== caseId || !(await showsPhotos(caseId))) {
        throw new AppError('not_found', `No published photo ${attachmentId} of case ${caseId}`);
      }
      return blobOf(deps.models, attachmentId, variant);
    },
  };
}
