import { randomBytes } from 'node:crypto';
import type { mongo } from 'mongoose';
import type { HourCounts, ListKind } from '../common/list-days';
import {
  addSealCounts,
  ALL_ROOT,
  boardKeys,
  caseListKeys,
  chinaDayHourOf,
  dayKey,
  filingFacets,
  isSealedRoot,
  markerId,
  markerKey,
  missingFacetKeys,
  parseMarkerId,
  stateFacets,
  unitRoot,
} from '../common/list-days';
import { startBackgroundLoop } from '../common/background-loop';
import type { Models } from '../models';
import { duplicateKeyIndexes } from '../models';
import { readOrgRevision } from '../models/org-revision';
import { backfillOpenCases, openCasesComplete } from './open-cases';
import { insertIgnoringDuplicates } from './outbox';

/** The mark that every case carries its day keys (services/day-walk.ts). */
export const LIST_DAYS_COMPLETE = '#complete';

type KeeperModels = Pick<
  Models,
  'Case' | 'ListDay' | 'ListDaySeal' | 'ListDayDirty' | 'OpenCase' | 'Unit' | 'OrgRevision'
>;

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
  /** Its process and category: keyed roots for the list's rare filters (common/list-days.ts). */
  definitionKey?: string | null;
  category?: string | null;
  /** The rare states it is in already (an imported case, the backfill): keyed likewise. */
  status?: string | null;
  overdue?: boolean;
}

/** Every facet of a case as it stands: its filing's and its rare states'. */
function facetsOf(doc: KeyedCase): string[] {
  return [
    ...filingFacets(doc.definitionKey, doc.category),
    ...stateFacets(doc.status, doc.overdue === true),
  ];
}

/** What the rare states' keys are added from: the case as the projection wrote it, or read. */
export interface StatedCase {
  status?: string | null;
  metrics?: Record<string, unknown> | null;
  listDays?: string[] | null;
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
      listDays: caseListKeys(doc.createdAt, ancestry, doc.createdBy.id, facetsOf(doc)),
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
     * its keys succeeded; a crash between the two loses one count (the markers' counts estimate
     * totals only; the seals, which deep pages skip by, are recounted: {@link sealDirtyDays}).
     */
    async countKeys(keys: { listDays: readonly string[]; boardDays?: readonly string[] }) {
      await stampMarkers(deps.models, markersOfAll(keys), 'count');
    },
    /**
     * A retry that finds the case written already: the markers are stamped again and their days
     * marked dirty (counted once, if the marker is new), so a seal taken between the first
     * attempt's write and its lost stamp is distrusted and recounted. Idempotent.
     */
    async touchKeys(keys: { listDays: readonly string[]; boardDays?: readonly string[] }) {
      await stampMarkers(deps.models, markersOfAll(keys), 'touch');
    },
    /**
     * Adds the keys of the rare states a case has reached (rejected, cancelled, failed, overdue:
     * common/list-days.ts `stateFacets`) to its `listDays` and counts them in their markers; keys
     * are never taken away (the list's filter beside the key drops a case that left the state).
     * `written`: the case as this attempt's write returned it (no read); without it (a retry) the
     * case is read, and keys found there already get their markers touched, since the attempt
     * that added them may have crashed before counting them. Idempotent.
     */
    async syncStateKeys(caseId: string, written?: StatedCase): Promise<void> {
      const doc =
        written ??
        ((await deps.models.Case.findById(caseId, {
          status: 1,
          metrics: 1,
          listDays: 1,
        }).lean()) as StatedCase | null);
      if (!doc?.listDays) return;
      const facets = stateFacets(doc.status, doc.metrics?.overdue === 1);
      if (facets.length === 0) return;
      const missing = missingFacetKeys(doc.listDays, facets);
      if (missing.length > 0) {
        const raw = deps.models.Case.collection as unknown as mongo.Collection<{ _id: string }>;
        await raw.updateOne({ _id: caseId }, { $addToSet: { listDays: { $each: missing } } });
        await stampMarkers(deps.models, markersOfKeys('list', missing), 'count');
      } else if (written === undefined) {
        const present = doc.listDays.filter((key) => facets.some((f) => key.includes(`+${f}|`)));
        await stampMarkers(deps.models, markersOfKeys('list', present), 'touch');
      }
    },
  };
}

function markersOfAll(keys: { listDays: readonly string[]; boardDays?: readonly string[] }) {
  return [...markersOfKeys('list', keys.listDays), ...markersOfKeys('board', keys.boardDays ?? [])];
}

/** The `(kind, root, day)` of each day key (the hour keys are left out: markers are per day). */
function markersOfKeys(kind: ListKind, keys: readonly string[]) {
  return keys.flatMap((key) => {
    const bar = key.lastIndexOf('|');
    const day = key.slice(bar + 1);
    return day.includes('T') ? [] : [{ kind, root: key.slice(0, bar), day }];
  });
}

/** A fresh value for a marker's `stamp`: every write of a marker changes it. */
function newStamp(): string {
  return randomBytes(8).toString('hex');
}

/**
 * Counts (or, for a retry, only touches) the markers, each with a fresh `stamp`, and then marks the
 * day of each sealed root dirty. The order is what keeps the seals exact: the case is written,
 * then its markers stamped, then its days marked; the seal pass deletes a dirty mark before it
 * reads the stamp and counts. So a seal that missed a case either carries an older stamp than the
 * marker, or the case's dirty mark is still there (docs/metrics-at-scale.md, "Deep pages").
 */
async function stampMarkers(
  models: Pick<Models, 'ListDay' | 'ListDayDirty'>,
  markers: ReadonlyArray<{ kind: ListKind; root: string; day: string }>,
  mode: 'count' | 'touch',
): Promise<void> {
  if (markers.length === 0) return;
  const raw = models.ListDay.collection as unknown as mongo.Collection<{ _id: string }>;
  const dirty = models.ListDayDirty.collection as unknown as mongo.Collection<{
    _id: string;
    key: string;
    day: string;
    at: Date;
  }>;
  // The upserts in one unordered bulk write (a few per case; inserts and updates of markers, not
  // of case documents: see backfillListDays on those and FerretDB v1).
  const upserts = markers.map(({ kind, root, day }) => ({
    updateOne: {
      filter: { _id: markerId(kind, root, day) },
      update:
        mode === 'count'
          ? {
              $setOnInsert: { key: markerKey(kind, root), day },
              $inc: { count: 1 },
              $set: { stamp: newStamp() },
            }
          : {
              $setOnInsert: { key: markerKey(kind, root), day, count: 1 },
              $set: { stamp: newStamp() },
            },
      upsert: true,
    },
  }));
  try {
    await raw.bulkWrite(upserts, { ordered: false });
  } catch (err) {
    // Two cases of one new day counted at once (an import's records run in parallel): both
    // upserts insert, one loses with a duplicate key; the marker exists now, so again updates.
    // Only the upserts that lost are sent again; the others were applied.
    const lost = duplicateKeyIndexes(err);
    if (lost === null) throw err;
    for (const index of lost) await raw.updateOne(...upsertArguments(upserts[index]!));
  }
  // The dirty marks in one unordered insert (a mark pending already is a duplicate: the seal pass
  // has not taken it yet, and will count this case). Inserts only, so no document is written twice.
  await insertIgnoringDuplicates(
    dirty,
    markers
      .filter(({ root }) => isSealedRoot(root))
      .map(({ kind, root, day }) => ({
        _id: markerId(kind, root, day),
        key: markerKey(kind, root),
        day,
        at: new Date(),
      })),
  );
}

function upsertArguments(op: {
  updateOne: { filter: { _id: string }; update: Record<string, unknown>; upsert: boolean };
}) {
  return [op.updateOne.filter, op.updateOne.update, { upsert: op.updateOne.upsert }] as const;
}

/** Dirty days sealed per pass (chosen: a busy county's day of new cases marks about 330). */
const SEAL_BATCH = 500;

/**
 * Recounts the days marked dirty: for each, the mark is deleted first, then the marker's stamp is
 * read, then the day's cases are read (one equality on its day key, only their instant), and the
 * seal written with that stamp, the count and the count per hour. Any writer of seals writes all
 * of a seal's fields at once, so a seal's stamp and counts always belong together.
 */
export async function sealDirtyDays(
  models: Pick<Models, 'Case' | 'ListDay' | 'ListDaySeal' | 'ListDayDirty'>,
  limit = SEAL_BATCH,
): Promise<number> {
  const dirty = await models.ListDayDirty.find({}, { _id: 1 }).limit(limit).lean();
  for (const { _id } of dirty) {
    await models.ListDayDirty.deleteOne({ _id });
    await sealDay(models, String(_id));
  }
  return dirty.length;
}

async function sealDay(
  models: Pick<Models, 'Case' | 'ListDay' | 'ListDaySeal'>,
  id: string,
): Promise<void> {
  const marker = await models.ListDay.findById(id, { stamp: 1 }).lean();
  const stamp = marker?.stamp;
  if (!stamp) return; // no marker (pruned) or one from before stamps: the backfill seals those
  const { kind, root, day } = parseMarkerId(id);
  const hours: HourCounts = {};
  let count = 0;
  const key = dayKey(root, day);
  const docs =
    kind === 'list'
      ? (await models.Case.find({ listDays: key }, { createdAt: 1 }).lean()).map((d) => d.createdAt)
      : (await models.Case.find({ boardDays: key }, { publication: 1 }).lean()).map(
          (d) => new Date((d.publication as { publishedAt: string }).publishedAt),
        );
  for (const instant of docs) {
    const { hour } = chinaDayHourOf(new Date(instant));
    hours[hour] = (hours[hour] ?? 0) + 1;
    count += 1;
  }
  await writeSeal(models, id, { stamp, count, hours });
}

async function writeSeal(
  models: Pick<Models, 'ListDaySeal'>,
  id: string,
  seal: { stamp: string; count: number; hours: HourCounts },
): Promise<void> {
  const { kind, root, day } = parseMarkerId(id);
  const raw = models.ListDaySeal.collection as unknown as mongo.Collection<{ _id: string }>;
  await raw.replaceOne(
    { _id: id },
    {
      key: markerKey(kind, root),
      day,
      stamp: seal.stamp,
      count: seal.count,
      hoursJson: JSON.stringify(seal.hours),
    },
    { upsert: true },
  );
}

/**
 * Writes per bulk write (chosen). 500 marker updates in one bulk stalled FerretDB v1 for good in
 * test/e2e/case-list-filters.test.ts once the keyed roots made them that many (8 December 2026),
 * as bulks of updates to cases and roll-ups did before; 100 did not.
 */
const BATCH = 100;

/**
 * Gives every case its day keys and recounts the day markers (an upgraded store, or after units
 * moved), then marks the keys complete. Idempotent; run while no worker projects cases for exact
 * counts (a case projected meanwhile keeps its keys, its count may be off by one).
 */
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
  // Exact counts per sealed root's day and hour, written with the markers' new stamps.
  const seals = new Map<string, { count: number; hours: HourCounts }>();
  const rawCases = models.Case.collection as unknown as mongo.Collection<{ _id: string }>;
  // Read whole before writing: on FerretDB v1/PostgreSQL, writes to the collection while a cursor
  // over it is open stalled for good (20,000 cases, 7 December 2026). The fields read are small.
  const stored = await models.Case.find(
    {},
    {
      createdAt: 1,
      unitId: 1,
      createdBy: 1,
      publication: 1,
      listDays: 1,
      boardDays: 1,
      definitionKey: 1,
      category: 1,
      status: 1,
      'metrics.overdue': 1,
    },
  ).lean();
  let cases = 0;
  let written = 0;

  for (const doc of stored) {
    cases += 1;
    const ancestry = ancestryIn(parents, doc.unitId);
    const overdue = (doc as { metrics?: { overdue?: number } | null }).metrics?.overdue === 1;
    const facets = facetsOf({
      createdAt: doc.createdAt,
      createdBy: doc.createdBy,
      definitionKey: doc.definitionKey,
      category: doc.category ?? null,
      status: doc.status,
      overdue,
    });
    // Keys the case has that this pass would not give it (a state it left) are kept: never taken away.
    const listDays = [
      ...caseListKeys(doc.createdAt, ancestry, doc.createdBy.id, facets),
      ...keptStateKeys(doc.listDays),
    ].filter((key, at, all) => all.indexOf(key) === at);
    addSealCounts(seals, 'list', listDays);
    for (const { root } of markersOfKeys('list', listDays)) count('list', root, doc.createdAt);
    const publication = doc.publication as { publishedAt?: string } | null;
    const publishedAt = publication?.publishedAt ? new Date(publication.publishedAt) : null;
    const boardDays = publishedAt ? boardKeys(publishedAt, ancestry) : undefined;
    addSealCounts(seals, 'board', boardDays);
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
  const entries = [...counts].map(
    ([id, fields]) => [id, { ...fields, stamp: newStamp() }] as const,
  );
  for (let at = 0; at < entries.length; at += BATCH) {
    await rawMarkers.bulkWrite(
      entries.slice(at, at + BATCH).map(([id, fields]) => ({
        updateOne: { filter: { _id: id }, update: { $set: fields }, upsert: true },
      })),
      { ordered: false },
    );
  }
  // The seals after their markers, with the stamps just written: a case the projection wrote
  // meanwhile stamped its marker again or left its day dirty, so such a seal is not trusted.
  const rawSeals = models.ListDaySeal.collection as unknown as mongo.Collection<{ _id: string }>;
  const sealed = entries.filter(([id]) => seals.has(id));
  for (let at = 0; at < sealed.length; at += BATCH) {
    await rawSeals.bulkWrite(
      sealed.slice(at, at + BATCH).map(([id, fields]) => {
        const seal = seals.get(id)!;
        return {
          replaceOne: {
            filter: { _id: id },
            replacement: {
              key: fields.key,
              day: fields.day,
              stamp: fields.stamp,
              count: seal.count,
              hoursJson: JSON.stringify(seal.hours),
            },
            upsert: true,
          },
        };
      }),
      { ordered: false },
    );
  }
  // Markers of days and roots no case has any more (units moved, cases deleted by hand): an empty
  // day costs the walk one read, a missing one would hide its cases, so only pruned on request.
  const stale = (options.pruneStale ? await models.ListDay.find({}, { _id: 1 }).lean() : [])
    .map((m) => String(m._id))
    .filter((id) => !id.startsWith('#') && !counts.has(id));
  if (options.pruneStale) {
    for (const id of stale) await rawMarkers.deleteOne({ _id: id });
    const staleSeals = (await models.ListDaySeal.find({}, { _id: 1 }).lean())
      .map((m) => String(m._id))
      .filter((id) => !seals.has(id));
    for (const id of staleSeals) await rawSeals.deleteOne({ _id: id });
  }
  await markListDaysComplete(models);
  return { cases, written, markers: counts.size };
}

/** Whether the stored keys are the wanted ones, in any order (state keys are appended later). */
function sameKeys(stored: readonly string[] | null | undefined, wanted: string[] | undefined) {
  if (!stored || stored.length === 0) return wanted === undefined;
  if (wanted === undefined) return false;
  const have = new Set(stored);
  return have.size === wanted.length && wanted.every((key) => have.has(key));
}

/**
 * The keys of rare states a case carries already (`+s:…`, `+overdue`): kept by the backfill under
 * the roots they name even if the case left the state, so a case is never dropped from a keyed
 * root the projection put it in (the filter beside the key decides whether it is listed).
 */
function keptStateKeys(stored: readonly string[] | null | undefined): string[] {
  return (stored ?? []).filter((key) => /\+(s:[^|+]*|overdue)\|/.test(key));
}

export async function markListDaysComplete(models: Pick<Models, 'ListDay'>): Promise<void> {
  const raw = models.ListDay.collection as unknown as mongo.Collection<{ _id: string }>;
  for (const mark of [LIST_DAYS_COMPLETE, LIST_DAYS_SEALED, LIST_DAYS_KEYED]) {
    await raw.updateOne(
      { _id: mark },
      { $setOnInsert: { key: mark, day: '', count: 0 } },
      { upsert: true },
    );
  }
}

export async function listDaysComplete(models: Pick<Models, 'ListDay'>): Promise<boolean> {
  return (await models.ListDay.findById(LIST_DAYS_COMPLETE, { _id: 1 }).lean()) !== null;
}

export async function listDaysSealed(models: Pick<Models, 'ListDay'>): Promise<boolean> {
  return (await models.ListDay.findById(LIST_DAYS_SEALED, { _id: 1 }).lean()) !== null;
}

export async function listDaysKeyed(models: Pick<Models, 'ListDay'>): Promise<boolean> {
  return (await models.ListDay.findById(LIST_DAYS_KEYED, { _id: 1 }).lean()) !== null;
}

/**
 * The mark that every case carries its keyed roots' keys (process, category, rare states;
 * common/list-days.ts): until the backfill writes it, the rare filters walk their plain roots.
 */
export const LIST_DAYS_KEYED = '#keyed';

/** The mark that every `*`/`u:` marker has a seal as of the backfill (the walk works without). */
export const LIST_DAYS_SEALED = '#sealed';

/** How often a worker recounts the dirty days (chosen: a deep page reads today's by hours until then). */
export const SEAL_EVERY_MS = 30_000;

/**
 * When a worker starts: if the keys are not marked complete (a store from before them, or a new
 * one) or the markers not yet sealed, backfill them in the background (a new store has few cases,
 * so it is marked at once; two workers starting together both backfill, which is idempotent); the
 * open cases' index likewise (activities/open-cases.ts). Then every {@link SEAL_EVERY_MS} it
 * recounts the days the projection marked dirty.
 */
export function startListDayKeeper(deps: {
  models: KeeperModels;
  logger: { info(msg: string): void; error(msg: string): void };
}): { stop(): Promise<void> } {
  const backfill = (async () => {
    if (
      !(await listDaysComplete(deps.models)) ||
      !(await listDaysSealed(deps.models)) ||
      !(await listDaysKeyed(deps.models))
    ) {
      const report = await backfillListDays(deps.models);
      deps.logger.info(
        `List day keys backfilled: ${report.written} of ${report.cases} cases, ${report.markers} day markers`,
      );
    }
    if (!(await openCasesComplete(deps.models))) {
      const open = await backfillOpenCases(deps.models);
      deps.logger.info(`Open cases indexed: ${open.open} of ${open.cases} cases`);
    }
  })().catch((err: unknown) => {
    deps.logger.error(`List day keys backfill failed: ${(err as Error).message}`);
  });
  // Each sealing pass waits for the start-up backfill to have settled.
  const loop = startBackgroundLoop({
    everyMs: SEAL_EVERY_MS,
    tick: () => backfill.then(() => sealDirtyDays(deps.models)),
    onError: (err) => deps.logger.error(`Sealing list days failed: ${(err as Error).message}`),
  });
  return {
    async stop() {
      await Promise.all([loop.stop(), backfill]);
    },
  };
}
