import type { mongo } from 'mongoose';
import type { ListKind } from '../common/list-days';
import {
  ALL_ROOT,
  boardKeys,
  caseListKeys,
  chinaDayHourOf,
  markerId,
  markerKey,
  rootsOf,
  unitRoot,
} from '../common/list-days';
import type { Models } from '../models';
import { isDuplicateKeyError } from '../models';
import { readOrgRevision } from '../models/org-revision';

/** The mark that every case carries its day keys (services/day-walk.ts). */
export const LIST_DAYS_COMPLETE = '#complete';

type KeeperModels = Pick<Models, 'Case' | 'ListDay' | 'Unit' | 'OrgRevision'>;

/** Each unit's parent. */
type Parents = ReadonlyMap<string, string | null>;

async function parentsOf(models: Pick<Models, 'Unit'>): Promise<Parents> {
  const units = await models.Unit.find({}, { _id: 1, parentId: 1 }).lean();
  return new Map(units.map((u) => [String(u._id), u.parentId ?? null]));
}

/** The units' parents as of the current org revision (one `_id` read; units reread when it moved). */
function parentsByRevision(models: Pick<Models, 'Unit' | 'OrgRevision'>) {
  let kept: { revision: number; parents: Promise<Parents> } | null = null;
  return async (): Promise<Parents> => {
    const revision = await readOrgRevision(models);
    if (kept?.revision !== revision) {
      const parents = parentsOf(models);
      const entry = { revision, parents };
      kept = entry;
      parents.catch(() => {
        if (kept === entry) kept = null;
      });
    }
    return kept.parents;
  };
}

/** A unit and its ancestors, nearest first; an unknown unit is itself alone, no unit nothing. */
export function ancestryIn(parents: Parents, unitId: string | null | undefined): string[] {
  if (unitId === null || unitId === undefined) return [];
  const chain: string[] = [];
  const seen = new Set<string>();
  for (let at: string | null = unitId; at !== null && !seen.has(at);) {
    seen.add(at);
    chain.push(at);
    at = parents.get(at) ?? null;
  }
  return chain;
}

/** One worker's day-key writer (createListKeys). */
export type ListKeys = ReturnType<typeof createListKeys>;

/** What a case's keys are written from. */
export interface KeyedCase {
  createdAt: Date;
  unitId?: string | null;
  createdBy: { id: string };
  publication?: { publishedAt: string } | null;
}

/**
 * Keys of a case as the projection and the import write them, over the unit tree as it stands.
 * A unit moved later leaves its cases' keys under the old ancestors until the backfill runs
 * (`npm run rebuild-rollups`), as the roll-ups are.
 */
export function createListKeys(deps: { models: KeeperModels }) {
  const parents = parentsByRevision(deps.models);

  async function keysOf(doc: KeyedCase): Promise<{ listDays: string[]; boardDays?: string[] }> {
    const ancestry = ancestryIn(await parents(), doc.unitId);
    const publishedAt = doc.publication ? new Date(doc.publication.publishedAt) : null;
    return {
      listDays: caseListKeys(doc.createdAt, ancestry, doc.createdBy.id),
      ...(publishedAt ? { boardDays: boardKeys(publishedAt, ancestry) } : {}),
    };
  }

  return {
    keysOf,
    /** The board's keys of a case published now (its unit read by `_id`). */
    async boardKeysOf(caseId: string, publishedAt: string): Promise<string[]> {
      const stored = await deps.models.Case.findById(caseId, { unitId: 1 }).lean();
      return boardKeys(new Date(publishedAt), ancestryIn(await parents(), stored?.unitId));
    },
    /**
     * Counts a case in the day markers of its keys. Called once after the write that gave the case
     * its keys succeeded; a crash between the two loses one count (the markers estimate, the
     * backfill recounts).
     */
    async countKeys(keys: { listDays: readonly string[]; boardDays?: readonly string[] }) {
      await incrementMarkers(deps.models, [
        ...markersOfKeys('list', keys.listDays),
        ...markersOfKeys('board', keys.boardDays ?? []),
      ]);
    },
  };
}

/** The `(kind, root, day)` of each day key (the hour keys are left out: markers are per day). */
function markersOfKeys(kind: ListKind, keys: readonly string[]) {
  return keys.flatMap((key) => {
    const bar = key.lastIndexOf('|');
    const day = key.slice(bar + 1);
    return day.includes('T') ? [] : [{ kind, root: key.slice(0, bar), day }];
  });
}

async function incrementMarkers(
  models: Pick<Models, 'ListDay'>,
  markers: ReadonlyArray<{ kind: ListKind; root: string; day: string }>,
): Promise<void> {
  if (markers.length === 0) return;
  const raw = models.ListDay.collection as unknown as mongo.Collection<{ _id: string }>;
  // One upsert at a time (a dozen per case): see backfillListDays on bulk updates and FerretDB v1.
  for (const { kind, root, day } of markers) {
    const upsert = () =>
      raw.updateOne(
        { _id: markerId(kind, root, day) },
        { $setOnInsert: { key: markerKey(kind, root), day }, $inc: { count: 1 } },
        { upsert: true },
      );
    try {
      await upsert();
    } catch (err) {
      // Two cases of one new day counted at once (an import's records run in parallel): both
      // upserts insert, one loses with a duplicate key; the marker exists now, so again updates.
      if (!isDuplicateKeyError(err)) throw err;
      await upsert();
    }
  }
}

/**
 * Gives every case its day keys and recounts the day markers (an upgraded store, or after units
 * moved), then marks the keys complete. Idempotent; run while no worker projects cases for exact
 * counts (a case projected meanwhile keeps its keys, its count may be off by one).
 */
const BATCH = 500; // chosen: writes per bulk write

export async function backfillListDays(
  models: KeeperModels,
  options: {
    /**
     * Also delete markers no case counts any more (units moved). Only with no worker projecting:
     * a marker the projection writes for a case created after this read would be deleted too, and
     * that day would drop out of the walk.
     */
    pruneStale?: boolean;
  } = {},
): Promise<{ cases: number; written: number; markers: number }> {
  const parents = await parentsOf(models);
  const counts = new Map<string, { key: string; day: string; count: number }>();
  const count = (kind: ListKind, root: string, instant: Date) => {
    const { day } = chinaDayHourOf(instant);
    const id = markerId(kind, root, day);
    const entry = counts.get(id) ?? { key: markerKey(kind, root), day, count: 0 };
    entry.count += 1;
    counts.set(id, entry);
  };
  const rawCases = models.Case.collection as unknown as mongo.Collection<{ _id: string }>;
  // Read whole before writing: on FerretDB v1/PostgreSQL, writes to the collection while a cursor
  // over it is open stalled for good (20,000 cases, 7 December 2026). The fields read are small.
  const stored = await models.Case.find(
    {},
    { createdAt: 1, unitId: 1, createdBy: 1, publication: 1, listDays: 1, boardDays: 1 },
  ).lean();
  let cases = 0;
  let written = 0;

  for (const doc of stored) {
    cases += 1;
    const ancestry = ancestryIn(parents, doc.unitId);
    const listDays = caseListKeys(doc.createdAt, ancestry, doc.createdBy.id);
    for (const root of rootsOf(ancestry, doc.createdBy.id)) count('list', root, doc.createdAt);
    const publication = doc.publication as { publishedAt?: string } | null;
    const publishedAt = publication?.publishedAt ? new Date(publication.publishedAt) : null;
    const boardDays = publishedAt ? boardKeys(publishedAt, ancestry) : undefined;
    if (publishedAt) {
      for (const root of [ALL_ROOT, ...ancestry.map(unitRoot)]) count('board', root, publishedAt);
    }
    const same =
      sameKeys(doc.listDays, listDays) && sameKeys(doc.boardDays ?? undefined, boardDays);
    if (!same) {
      // One update at a time: a bulk write of updates to case documents stalled FerretDB v1 on
      // PostgreSQL for good after about 150 of them (twice, 20,000 cases, 7 December 2026).
      await rawCases.updateOne(
        { _id: doc._id },
        boardDays
          ? { $set: { listDays, boardDays } }
          : { $set: { listDays }, $unset: { boardDays: '' } },
      );
      written += 1;
    }
  }
  const rawMarkers = models.ListDay.collection as unknown as mongo.Collection<{ _id: string }>;
  const entries = [...counts];
  for (let at = 0; at < entries.length; at += BATCH) {
    await rawMarkers.bulkWrite(
      entries.slice(at, at + BATCH).map(([id, fields]) => ({
        updateOne: { filter: { _id: id }, update: { $set: fields }, upsert: true },
      })),
      { ordered: false },
    );
  }
  // Markers of days and roots no case has any more (units moved, cases deleted by hand): an empty
  // day costs the walk one read, a missing one would hide its cases, so only pruned on request.
  const stale = (options.pruneStale ? await models.ListDay.find({}, { _id: 1 }).lean() : [])
    .map((m) => String(m._id))
    .filter((id) => id !== LIST_DAYS_COMPLETE && !counts.has(id));
  if (options.pruneStale) for (const id of stale) await rawMarkers.deleteOne({ _id: id });
  await markListDaysComplete(models);
  return { cases, written, markers: counts.size };
}

function sameKeys(stored: readonly string[] | null | undefined, wanted: string[] | undefined) {
  if (!stored || stored.length === 0) return wanted === undefined;
  if (wanted === undefined) return false;
  return stored.length === wanted.length && stored.every((key, i) => key === wanted[i]);
}

export async function markListDaysComplete(models: Pick<Models, 'ListDay'>): Promise<void> {
  const raw = models.ListDay.collection as unknown as mongo.Collection<{ _id: string }>;
  await raw.updateOne(
    { _id: LIST_DAYS_COMPLETE },
    { $setOnInsert: { key: LIST_DAYS_COMPLETE, day: '', count: 0 } },
    { upsert: true },
  );
}

export async function listDaysComplete(models: Pick<Models, 'ListDay'>): Promise<boolean> {
  return (await models.ListDay.findById(LIST_DAYS_COMPLETE, { _id: 1 }).lean()) !== null;
}

/**
 * When a worker starts: if the keys are not marked complete (a store from before them, or a new
 * one), backfill them in the background. A new store has few cases, so it is marked at once; two
 * workers starting together both backfill, which is idempotent.
 */
export function startListDayKeeper(deps: {
  models: KeeperModels;
  logger: { info(msg: string): void; error(msg: string): void };
}): Promise<void> {
  return (async () => {
    if (await listDaysComplete(deps.models)) return;
    const report = await backfillListDays(deps.models);
    deps.logger.info(
      `List day keys backfilled: ${report.written} of ${report.cases} cases, ${report.markers} day markers`,
    );
  })().catch((err: unknown) => {
    deps.logger.error(`List day keys backfill failed: ${(err as Error).message}`);
  });
}
