import { createHash, randomBytes } from 'node:crypto';
import type { CaseMetrics } from '../common/case';
import { METRIC_FIELDS } from '../common/case-measures';
import type { RollupKey, Sums } from '../common/metric-rollup';
import type {
  ParentMap,
  RollupBy,
  RollupCase,
  TreeKind,
  TreeHalfKind,
} from '../common/metric-rollup';
import {
  FOLD_SEQ,
  packRollupParts,
  parentsFromJson,
  parentsToJson,
  depthOf,
  TREE_KIND_OF,
  TREE_MARK,
  treeAgrees,
  treeRollupIdOf,
  treeUnitsOf,
  treeHalfRollupIdOf,
  HALF_KIND_OF,
  halfOf,
  monthPartOf,
  rollupIdOf,
  rollupKeysOf,
  rollupPartOf,
  rollupSlotOf,
  sumsOf,
  unpackRollupParts,
} from '../common/metric-rollup';
import type { Models } from '../models';
import { duplicateKeyIndexes, isDuplicateKeyError } from '../models';
import type { Logger } from '../common/logger';
import { hostname } from 'node:os';
import type { OrgSnapshot, OrgSnapshotReader } from '../common/org-snapshot';
import { createOrgSnapshot } from '../common/org-snapshot';
import { startBackgroundLoop } from '../common/background-loop';

/**
 * Metric roll-ups (docs/metrics-at-scale.md): each case's figures (every field of METRIC_FIELDS)
 * summed into one small document per unit and month received, with one entry per process and
 * category (common/metric-rollup.ts), once for the unit the case was filed for (`place`) and once
 * for each distinct unit that served it (`served`), so a dashboard reads a few documents instead
 * of aggregating over every case.
 *
 * FerretDB v1 applies an update as read-modify-write, so concurrent `$inc`s of one document lose
 * counts (measured: services/limits.ts). The projection therefore never updates a roll-up: it
 * inserts **changes** (`metricRollupChanges`), and one worker at a time **folds** them into the
 * roll-ups ({@link foldRollupChanges}); readers add the changes not folded yet.
 *
 * The case document keeps what of its figures the roll-ups hold (`rolledUp: { revision, key,
 * figures }`: `keys` its place key and one per serving unit). {@link syncCaseRollup} brings the roll-ups up to the case's current figures:
 *
 * 1. read the case (by `_id`): its figures, its key fields and `rolledUp` (the projection hands in
 *    the case its write returned: `SyncOptions.read`);
 * 2. insert, per key, the change `figures - rolledUp.figures` (a key gone: minus what it held; a
 *    key new: the figures), its `_id` a token of the case, the two revisions and the key
 *    (`caseId|from|to|in/out|key`): inserted once, whatever the retries;
 * 3. record the new `rolledUp` on the case, only where `rolledUp` is still the one read.
 *
 * A crash between 2 and 3 leaves the case saying "not applied" while the change is in; the retry
 * computes the same token and its insert is a duplicate (or, once the change is folded, finds the
 * token among the folded ones, kept a week): nothing counted twice. A replayed or
 * out-of-order call reads the case as it is now, so it inserts nothing when the roll-ups already
 * match it. If step 3 finds `rolledUp` changed (the upgrade backfill and the projection synced
 * one case at once from different revisions), the loser inserts the opposite of its own change
 * and starts again. `npm run rebuild-rollups` (scripts/rebuild-rollups.ts) recomputes everything
 * from the case documents: the safety net.
 */

/** Roll-up documents per bulk write of the rebuild (chosen). */
const REBUILD_BATCH = 500;
/** Changes folded per batch (chosen: one batch is a few hundred small writes at most). */
const FOLD_BATCH = 500;
/** Attempts of a sync that keeps losing its case mark to another sync (chosen). */
const SYNC_ATTEMPTS = 5;

interface Applied {
  revision: number;
  /** The place key first, then one per serving unit (common/metric-rollup.ts rollupKeysOf). */
  keys: RollupKey[];
  figures: Partial<Sums>;
}

function tokenOf(caseId: string, from: number, to: number, part: string): string {
  return createHash('sha256').update(`${caseId}|${from}|${to}|${part}`).digest('hex').slice(0, 32);
}

function sameKeys(a: readonly RollupKey[] | undefined, b: readonly RollupKey[]): boolean {
  if (!Array.isArray(a) || a.length !== b.length) return false;
  const slots = new Set(a.map(rollupSlotOf));
  return b.every((k) => slots.has(rollupSlotOf(k)));
}

interface Change {
  token: string;
  key: RollupKey;
  delta: Partial<Sums>;
}

/**
 * Inserts one change; false when a change with its token is in already (or was folded). The
 * folded tokens are read first unless `unseen` says no other sync can have inserted this change
 * (see {@link SyncOptions}): then the insert's duplicate key is the only check needed.
 */
async function insertChange(
  models: Pick<Models, 'MetricRollupChange' | 'MetricRollupToken'>,
  change: Change,
  unseen = false,
): Promise<boolean> {
  if (!unseen && (await models.MetricRollupToken.exists({ _id: change.token })) !== null) {
    return false;
  }
  try {
    await models.MetricRollupChange.collection.insertOne(changeDocument(change, new Date()));
    return true;
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    return false;
  }
}

/**
 * Inserts changes no other sync can have inserted (see {@link SyncOptions}) in one unordered
 * insert; answers those inserted (a duplicate: in already, from an earlier attempt of this sync).
 */
async function insertUnseenChanges(
  models: Pick<Models, 'MetricRollupChange'>,
  changes: readonly Change[],
): Promise<Change[]> {
  const at = new Date();
  try {
    await models.MetricRollupChange.collection.insertMany(
      changes.map((change) => changeDocument(change, at)),
      { ordered: false },
    );
    return [...changes];
  } catch (err) {
    const lost = duplicateKeyIndexes(err);
    if (lost === null) throw err;
    const skipped = new Set(lost);
    return changes.filter((_, index) => !skipped.has(index));
  }
}

function changeDocument(change: Change, at: Date) {
  return {
    _id: change.token as never,
    rollupId: rollupIdOf(change.key),
    by: change.key.by,
    unitId: change.key.unitId,
    ...(change.key.unitIds ? { unitIds: change.key.unitIds } : {}),
    month: change.key.month,
    part: rollupPartOf(change.key),
    delta: change.delta,
    batch: null,
    at,
  };
}

function nonZero(sums: Partial<Sums>): Partial<Sums> {
  return Object.fromEntries(Object.entries(sums).filter(([, v]) => v !== 0));
}

function difference(now: Sums, before: Sums): Partial<Sums> {
  return nonZero(Object.fromEntries(METRIC_FIELDS.map((f) => [f, now[f] - before[f]])));
}

function negated(delta: Partial<Sums>): Partial<Sums> {
  return Object.fromEntries(Object.entries(delta).map(([f, v]) => [f, -v]));
}

export type RollupCaseFields = RollupCase & {
  _id: unknown;
  revision: number;
  rolledUp?: unknown;
};
type CaseFields = RollupCaseFields;

/** The case fields a sync reads ({@link syncCaseRollup}'s `read` holds at least these). */
export const ROLLUP_CASE_FIELDS = {
  unitId: 1,
  createdAt: 1,
  definitionKey: 1,
  category: 1,
  metrics: 1,
  servedBy: 1,
  revision: 1,
  rolledUp: 1,
} as const;

/** The changes that take the roll-ups from `applied` to the case as read. */
function changesOf(caseId: string, doc: CaseFields, applied: Applied | null): Change[] {
  const keys = rollupKeysOf(doc);
  const now = sumsOf(doc.metrics);
  const from = applied?.revision ?? 0;
  const before = sumsOf(applied?.figures);
  const held = new Set((applied?.keys ?? []).map(rollupSlotOf));
  const wanted = new Set(keys.map(rollupSlotOf));
  const changes: Change[] = [];
  const push = (k: RollupKey, delta: Partial<Sums>, direction: 'in' | 'out') => {
    if (Object.keys(delta).length > 0) {
      const part = `${direction}|${rollupSlotOf(k)}`;
      changes.push({ token: tokenOf(caseId, from, doc.revision, part), key: k, delta });
    }
  };
  // A key gone (a case re-filed, a serving unit no longer holding it): out of what it held.
  for (const k of applied?.keys ?? []) {
    if (!wanted.has(rollupSlotOf(k))) push(k, difference(sumsOf(null), before), 'out');
  }
  // A key kept: the difference; a key new: the figures as they stand.
  for (const k of keys) {
    push(k, held.has(rollupSlotOf(k)) ? difference(now, before) : nonZero(now), 'in');
  }
  return changes;
}

/** What the caller of {@link syncCaseRollup} knows of the case, to spare reads. */
export interface SyncOptions {
  /** The case (at least {@link ROLLUP_CASE_FIELDS}) as its last write returned it; `null`: none. */
  read?: RollupCaseFields | null;
  /**
   * A revision the caller wrote itself just now (the projection's first write of it). A change
   * into a revision is inserted by a sync that read that revision; if the caller wrote it, any
   * other such sync ran after that write, beside this one. The folded tokens are read to catch a
   * change inserted, then folded, by an earlier sync that crashed before its mark; so for the
   * changes into this revision the read is skipped while {@link stillUnseen} says no other sync
   * can be running (the projection: no second attempt of its activity can have started, and no
   * backfill is running).
   */
  unseenRevision?: number;
  /** Asked just before the changes are inserted; see {@link unseenRevision}. */
  stillUnseen?: () => boolean;
}

/**
 * Brings the roll-ups up to the case's current figures (see the module comment). Idempotent;
 * safe to call any number of times, in any order, for any revision of the case.
 */
export async function syncCaseRollup(
  models: Pick<Models, 'Case' | 'MetricRollupChange' | 'MetricRollupToken'>,
  caseId: string,
  options: SyncOptions = {},
): Promise<'applied' | 'unchanged' | 'no-case'> {
  for (let attempt = 1; ; attempt += 1) {
    const doc =
      attempt === 1 && options.read !== undefined
        ? options.read
        : ((await models.Case.findById(caseId, ROLLUP_CASE_FIELDS).lean()) as CaseFields | null);
    if (!doc) return 'no-case';
    if (doc.metrics === null || doc.metrics === undefined) return 'unchanged';
    const applied = appliedOf(doc.rolledUp);
    const keys = rollupKeysOf(doc);
    if (applied !== null && applied.revision >= doc.revision && sameKeys(applied.keys, keys)) {
      return 'unchanged';
    }
    const changes = changesOf(caseId, doc, applied);
    const inserted: Change[] = [];
    // Only the first attempt's changes can be unseen: a lost mark means another sync ran.
    const unseen =
      attempt === 1 &&
      options.unseenRevision !== undefined &&
      options.unseenRevision === doc.revision &&
      (options.stillUnseen?.() ?? false);
    if (unseen && changes.length > 1) {
      inserted.push(...(await insertUnseenChanges(models, changes)));
    } else {
      for (const change of changes) {
        if (await insertChange(models, change, unseen)) inserted.push(change);
      }
    }
    const record: Applied = {
      revision: doc.revision,
      keys,
      figures: nonZero(sumsOf(doc.metrics)),
    };
    const marked = await models.Case.collection.updateOne(
      {
        _id: caseId as never,
        ...(doc.rolledUp === null || doc.rolledUp === undefined
          ? { rolledUp: null }
          : { 'rolledUp.revision': (doc.rolledUp as { revision?: unknown }).revision }),
      },
      { $set: { rolledUp: record } },
    );
    if (marked.matchedCount === 1) return 'applied';
    // Another sync of this case marked it first. If it recorded what this one would, it did the
    // same work (the same tokens: only one of the two inserted each change); otherwise take back
    // what this attempt inserted and start again from its mark.
    const now = (await models.Case.findById(caseId, { rolledUp: 1 }).lean()) as {
      rolledUp?: unknown;
    } | null;
    if (sameRecord(now?.rolledUp, record)) return 'applied';
    for (const change of inserted) {
      await insertChange(models, {
        token: tokenOf(caseId, attempt, doc.revision, `undo|${change.token}`),
        key: change.key,
        delta: negated(change.delta),
      });
    }
    if (attempt >= SYNC_ATTEMPTS) {
      throw new Error(`Case ${caseId}: its roll-up mark kept changing; retry later`);
    }
  }
}

/**
 * Folds the changes into the roll-ups, a batch at a time, until none is left or `until` (epoch
 * ms) passes; returns how many were folded. One folder at a time (the worker's keeper holds the
 * minute's fold lock): a batch is first marked on its changes, then added to each roll-up document
 * with `lastFold` = the batch (a re-run after a crash skips the documents that have it), then
 * deleted. An unfinished batch is finished first. Each change also goes into the subtree
 * documents of the units on its unit's path (common/metric-rollup.ts TREE_KINDS), along the unit
 * tree the `tree` mark records (see treeForFold), so a county view reads a few documents.
 */
export async function foldRollupChanges(
  models: Pick<
    Models,
    | 'MetricRollup'
    | 'MetricRollupChange'
    | 'MetricRollupToken'
    | 'MetricRollupMark'
    | 'Unit'
    | 'OrgRevision'
  >,
  until = Number.POSITIVE_INFINITY,
  options: { units?: OrgSnapshotReader } = {},
): Promise<number> {
  const changes = models.MetricRollupChange.collection;
  const units = options.units ?? createOrgSnapshot({ models });
  let folded = 0;
  while (Date.now() < until) {
    const unfinished = await changes.findOne(
      { batch: { $ne: null } },
      { projection: { batch: 1 } },
    );
    let batch = unfinished ? String(unfinished.batch) : null;
    if (batch === null) {
      const ids = await changes
        .find({ batch: null }, { projection: { _id: 1 } })
        .limit(FOLD_BATCH)
        .toArray();
      if (ids.length === 0) break;
      batch = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
      await changes.updateMany(
        { _id: { $in: ids.map((d) => d._id) }, batch: null },
        { $set: { batch } },
      );
    }
    // Readers see a fold starting and ending here (services/metrics.ts); only the folder writes it.
    const foldSeq = (running: string | null) =>
      models.MetricRollupMark.collection.updateOne(
        { _id: FOLD_SEQ as never },
        { $inc: { seq: 1 }, $set: { running }, $setOnInsert: { kind: FOLD_SEQ, at: new Date() } },
        { upsert: true },
      );
    // The unit tree the subtree documents follow, or null when they are not kept (stale, or a
    // store upgraded without them): decided, and marked stale if so, before the batch is seen.
    const parents = await treeForFold(models, units);
    await foldSeq(batch);
    const taken = await changes.find({ batch }).toArray();
    const byRollup = new Map<string, FoldTarget>();
    const addTo = (
      rollupId: string,
      fields: Omit<FoldTarget, 'sums'>,
      part: string,
      delta: Record<string, number>,
    ) => {
      const target: FoldTarget = byRollup.get(rollupId) ?? { ...fields, sums: {} };
      const sums = (target.sums[part] ??= {});
      for (const [field, value] of Object.entries(delta)) {
        sums[field] = (sums[field] ?? 0) + value;
      }
      byRollup.set(rollupId, target);
    };
    for (const c of taken) {
      const delta = (c.delta ?? {}) as Record<string, number>;
      const part = String(c.part);
      const month = String(c.month);
      addTo(
        String(c.rollupId),
        { by: c.by, unitId: c.unitId, unitIds: c.unitIds, month },
        part,
        delta,
      );
      if (parents === null) continue;
      // Its subtree documents: one per unit on its unit's path (docs/metrics-at-scale.md).
      const by = c.by as RollupBy;
      const kind: TreeKind = TREE_KIND_OF[by];
      const key = {
        by,
        unitId: typeof c.unitId === 'string' ? c.unitId : null,
        unitIds: Array.isArray(c.unitIds) ? (c.unitIds as string[]) : undefined,
      };
      for (const unitId of treeUnitsOf(key, parents)) {
        const parentId = parents.get(unitId) ?? null;
        const depth = depthOf(unitId, parents);
        addTo(
          treeRollupIdOf(kind, unitId, month),
          { by: kind, unitId, parentId, depth, month },
          part,
          delta,
        );
        // And its period document (the unit's half year): the same sums under `<month>|<part>`.
        const half = halfOf(month);
        addTo(
          treeHalfRollupIdOf(kind, unitId, half),
          { by: HALF_KIND_OF[kind], unitId, parentId, depth, half },
          monthPartOf(month, part),
          delta,
        );
      }
    }
    for (const [rollupId, target] of byRollup) {
      await foldInto(models, rollupId, batch, target);
    }
    // Their tokens stay a while, so a late retry of one inserts nothing (module comment).
    const at = new Date();
    try {
      await models.MetricRollupToken.collection.insertMany(
        taken.map((c) => ({ _id: c._id, at })),
        { ordered: false },
      );
    } catch (err) {
      // Some were written by an earlier run of this batch.
      if (!isDuplicateKeyError(err)) throw err;
    }
    await changes.deleteMany({ batch });
    await foldSeq(null);
    folded += taken.length;
  }
  return folded;
}

interface FoldTarget {
  by: unknown;
  unitId: unknown;
  unitIds?: unknown;
  /** A subtree document's unit's parent and depth (common/metric-rollup.ts). */
  parentId?: string | null;
  depth?: string;
  /** The month of a roll-up document; a period document has its `half` instead. */
  month?: unknown;
  half?: string;
  sums: Record<string, Record<string, number>>;
}

/** The parent of every unit of a snapshot. */
export function parentsOf(tree: OrgSnapshot): Map<string, string | null> {
  return new Map([...tree.byId.values()].map((u) => [u.id, u.parentId]));
}

/**
 * The unit tree a batch's subtree documents are written along, or null when they are not kept:
 * the `tree` mark (common/metric-rollup.ts TREE_MARK) is stale, or missing on a store that has
 * roll-ups already (upgraded from a version without subtree documents: `npm run rebuild-rollups`
 * writes them). A store without any roll-up starts them here. When a unit the mark knows has
 * moved or gone, the mark turns stale before this batch folds (readers then roll the per-unit
 * documents up along their own tree until the rebuild); units new since are added to it.
 */
async function treeForFold(
  models: Pick<Models, 'MetricRollup' | 'MetricRollupMark'>,
  units: OrgSnapshotReader,
): Promise<ParentMap | null> {
  const marks = models.MetricRollupMark.collection;
  const current = parentsOf(await units.get());
  const mark = await marks.findOne(
    { _id: TREE_MARK as never },
    { projection: { parentsJson: 1, stale: 1 } },
  );
  if (mark === null) {
    const any = await models.MetricRollup.collection.findOne({}, { projection: { _id: 1 } });
    if (any !== null) return null;
    await writeTreeMark(models, current);
    return current;
  }
  if (mark.stale === true) return null;
  const stored = parentsFromJson(mark.parentsJson);
  if (!treeAgrees(stored, current)) {
    await marks.updateOne(
      { _id: TREE_MARK as never },
      { $set: { stale: true, staleAt: new Date() } },
    );
    return null;
  }
  if (current.size > stored.size) {
    await marks.updateOne(
      { _id: TREE_MARK as never },
      { $set: { parentsJson: parentsToJson(current) } },
    );
  }
  return current;
}

/** The `tree` mark: the subtree documents follow `parents` and are complete (written whole). */
async function writeTreeMark(
  models: Pick<Models, 'MetricRollupMark'>,
  parents: ParentMap,
): Promise<void> {
  await models.MetricRollupMark.collection.replaceOne(
    { _id: TREE_MARK as never },
    {
      kind: TREE_MARK,
      parentsJson: parentsToJson(parents),
      stale: false,
      // The period documents are complete too: written whole with the subtree documents (the
      // rebuild), or from the first change on (a new store). Readers use them only then.
      halves: true,
      at: new Date(),
    },
    { upsert: true },
  );
}

/** Tries of a fold into one document whose `lastFold` moved between its read and its write. */
const FOLD_WRITE_ATTEMPTS = 3;

/**
 * Adds a batch's sums into one roll-up document: read it by `_id`, add, write the whole
 * `partsJson` back on the condition that its `lastFold` is still the one read, with `lastFold` =
 * the batch (common/metric-rollup.ts packs the entries into one string, so `$inc` cannot reach
 * them). The folder is the one writer of roll-ups, so the condition only fails if someone else
 * wrote (a rebuild run beside a worker): then read again. A document that has the batch already
 * (a re-run of a crashed batch) is left as it is.
 */
async function foldInto(
  models: Pick<Models, 'MetricRollup'>,
  rollupId: string,
  batch: string,
  target: FoldTarget,
): Promise<void> {
  const rollups = models.MetricRollup.collection;
  for (let attempt = 1; ; attempt += 1) {
    const doc = await rollups.findOne(
      { _id: rollupId as never },
      { projection: { parts: 1, partsJson: 1, lastFold: 1 } },
    );
    if (doc?.lastFold === batch) return;
    const entries = doc ? unpackRollupParts(doc) : {};
    for (const [part, sums] of Object.entries(target.sums)) {
      const into = (entries[part] ??= {});
      for (const [field, value] of Object.entries(sums)) {
        const key = field as keyof Sums;
        into[key] = (into[key] ?? 0) + value;
      }
    }
    const partsJson = packRollupParts(entries);
    let written: boolean;
    if (doc) {
      const updated = await rollups.updateOne(
        { _id: rollupId as never, lastFold: (doc.lastFold as string | null | undefined) ?? null },
        { $set: { partsJson, lastFold: batch }, $unset: { parts: '' } },
      );
      written = updated.matchedCount === 1;
    } else {
      try {
        await rollups.insertOne({
          _id: rollupId as never,
          by: target.by,
          unitId: target.unitId,
          ...(Array.isArray(target.unitIds) ? { unitIds: target.unitIds } : {}),
          ...(target.parentId !== undefined ? { parentId: target.parentId } : {}),
          ...(target.depth !== undefined ? { depth: target.depth } : {}),
          ...(target.half !== undefined ? { half: target.half } : { month: target.month }),
          partsJson,
          lastFold: batch,
        });
        written = true;
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
        written = false;
      }
    }
    if (written) return;
    if (attempt >= FOLD_WRITE_ATTEMPTS) {
      throw new Error(`roll-up ${rollupId} kept changing while batch ${batch} folded into it`);
    }
  }
}

/** A roll-up document as computed from cases: its unit, month and entries. */
export interface ComputedRollup {
  by: RollupBy | TreeKind | TreeHalfKind;
  unitId: string | null;
  /** A `servedSet`'s units. */
  unitIds?: string[];
  /** A subtree document's unit's parent and depth. */
  parentId?: string | null;
  depth?: string;
  /** The month of a roll-up document; a period document has its `half` instead. */
  month?: string;
  half?: string;
  parts: Record<string, Sums>;
}

/** A computed roll-up as the folder stores it: its entries packed into `partsJson`. */
export function storedRollupOf(rollup: ComputedRollup): Record<string, unknown> {
  const { parts, ...key } = rollup;
  return { ...key, partsJson: packRollupParts(parts), lastFold: null };
}

/**
 * Adds one case's figures into `into` (by roll-up document id), and into the subtree documents
 * along `parents` when given (the unit tree as it stands); for the rebuild, the bench and tests.
 */
export function addCase(
  into: Map<string, ComputedRollup>,
  doc: RollupCase,
  parents?: ParentMap,
): void {
  if (doc.metrics === null || doc.metrics === undefined) return;
  const figures = sumsOf(doc.metrics);
  const addTo = (id: string, fresh: () => ComputedRollup, part: string) => {
    const rollup = into.get(id) ?? fresh();
    const sums = rollup.parts[part] ?? sumsOf(null);
    for (const f of METRIC_FIELDS) sums[f] += figures[f];
    rollup.parts[part] = sums;
    into.set(id, rollup);
  };
  for (const key of rollupKeysOf(doc)) {
    const part = rollupPartOf(key);
    addTo(
      rollupIdOf(key),
      () => ({
        by: key.by,
        unitId: key.unitId,
        ...(key.unitIds ? { unitIds: key.unitIds } : {}),
        month: key.month,
        parts: {},
      }),
      part,
    );
    if (!parents) continue;
    const kind = TREE_KIND_OF[key.by];
    const half = halfOf(key.month);
    for (const unitId of treeUnitsOf(key, parents)) {
      const place = {
        unitId,
        parentId: parents.get(unitId) ?? null,
        depth: depthOf(unitId, parents),
      };
      addTo(
        treeRollupIdOf(kind, unitId, key.month),
        () => ({ by: kind, ...place, month: key.month, parts: {} }),
        part,
      );
      addTo(
        treeHalfRollupIdOf(kind, unitId, half),
        () => ({ by: HALF_KIND_OF[kind], ...place, half, parts: {} }),
        monthPartOf(key.month, part),
      );
    }
  }
}

/** The roll-up mark a case carries once the roll-ups hold its figures. */
export function rolledUpOf(doc: CaseFields & { metrics: Partial<CaseMetrics> }): Applied {
  return { revision: doc.revision, keys: rollupKeysOf(doc), figures: nonZero(sumsOf(doc.metrics)) };
}

/** A stored mark, or null when there is none (or one of an older shape: synced from scratch). */
function appliedOf(stored: unknown): Applied | null {
  const s = stored as Partial<Applied> | null | undefined;
  if (!s || typeof s.revision !== 'number' || !Array.isArray(s.keys)) return null;
  return { revision: s.revision, keys: s.keys, figures: s.figures ?? {} };
}

/**
 * Recomputes every roll-up from the case documents (one pass over the cases) and records on each
 * case what the roll-ups now hold. The safety net after a lost write or an upgrade from a version
 * without roll-ups; run it while no worker projects cases (a change projected during the pass may
 * be missed until the next run).
 */
export async function rebuildRollups(
  models: Pick<
    Models,
    'Case' | 'MetricRollup' | 'MetricRollupChange' | 'MetricRollupMark' | 'Unit' | 'OrgRevision'
  >,
): Promise<{ cases: number; rollups: number; casesMarked: number }> {
  // The changes not folded yet are in the case documents too: recomputed below.
  await models.MetricRollupChange.deleteMany({});
  // The subtree documents along the tree as it stands: past months follow a moved unit.
  const parents = parentsOf(await createOrgSnapshot({ models }).get());
  const rollups = new Map<string, ComputedRollup>();
  let cases = 0;
  let casesMarked = 0;
  const cursor = models.Case.find({}, ROLLUP_CASE_FIELDS).lean().cursor();
  for await (const found of cursor) {
    cases += 1;
    const doc = found as unknown as CaseFields;
    if (doc.metrics === null || doc.metrics === undefined) continue;
    addCase(rollups, doc, parents);
    const record = rolledUpOf(doc as CaseFields & { metrics: Partial<CaseMetrics> });
    if (!sameRecord(doc.rolledUp, record)) {
      await models.Case.collection.updateOne(
        { _id: String(doc._id) as never },
        { $set: { rolledUp: record } },
      );
      casesMarked += 1;
    }
  }
  await writeRollups(models, rollups);
  await writeTreeMark(models, parents);
  await markComplete(models);
  return { cases, rollups: rollups.size, casesMarked };
}

function sameRecord(stored: unknown, record: Applied): boolean {
  const s = appliedOf(stored);
  if (!s || s.revision !== record.revision || !sameKeys(s.keys, record.keys)) return false;
  const a = sumsOf(s.figures);
  const b = sumsOf(record.figures);
  return METRIC_FIELDS.every((f) => a[f] === b[f]);
}

/**
 * Replaces the roll-ups with `rollups` (computed by {@link addCase}) and deletes the others. Bulk
 * writes: one round trip per batch (a single write costs a storage commit on SQLite).
 */
export async function writeRollups(
  models: Pick<Models, 'MetricRollup'>,
  rollups: ReadonlyMap<string, ComputedRollup>,
): Promise<void> {
  const ids = [...rollups.keys()];
  for (let at = 0; at < ids.length; at += REBUILD_BATCH) {
    await models.MetricRollup.collection.bulkWrite(
      ids.slice(at, at + REBUILD_BATCH).map((id) => ({
        replaceOne: {
          filter: { _id: id as never },
          replacement: storedRollupOf(rollups.get(id)!),
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }
  const stored = await models.MetricRollup.find({}, { _id: 1 }).lean();
  const gone = stored.map((d) => String(d._id)).filter((id) => !rollups.has(id));
  if (gone.length > 0) await models.MetricRollup.deleteMany({ _id: { $in: gone } });
}

const COMPLETE = 'complete';

/**
 * Records that the subtree documents loaded beside the roll-ups follow `parents` (the bench loads
 * roll-ups computed by {@link addCase} straight into a new store).
 */
export async function markTreeLoaded(
  models: Pick<Models, 'MetricRollupMark'>,
  parents: ParentMap,
): Promise<void> {
  await writeTreeMark(models, parents);
}

/** Records that every case's figures are in the roll-ups (or their changes); idempotent. */
export async function markComplete(models: Pick<Models, 'MetricRollupMark'>): Promise<void> {
  try {
    await models.MetricRollupMark.collection.insertOne({
      _id: COMPLETE as never,
      kind: COMPLETE,
      at: new Date(),
    });
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
  }
}

/** True once the roll-ups hold every case: before that, the metrics read the cases. */
export async function rollupsComplete(models: Pick<Models, 'MetricRollupMark'>): Promise<boolean> {
  return (await models.MetricRollupMark.exists({ _id: COMPLETE })) !== null;
}

/** A backfill whose owner has not beaten its heartbeat for this long is taken over (chosen). */
export const BACKFILL_STALE_MS = 10 * 60_000;
/** The backfill's owner beats its heartbeat every this many cases (chosen). */
const HEARTBEAT_EVERY = 200;

/**
 * Fills the roll-ups of a store whose cases were written before it had roll-ups (an upgrade), then
 * marks them complete; on a new store (no case without its mark) it only marks them. One worker
 * does it: the lock is a document `backfill#<n>` inserted once (an insert either wins or is a
 * duplicate, on FerretDB too); a lock whose heartbeat is older than {@link BACKFILL_STALE_MS} is
 * taken over by inserting `backfill#<n+1>`. Each case goes through {@link syncCaseRollup}, so a
 * backfill that dies half-way, or races the projection, counts nothing twice.
 */
export async function backfillRollups(
  models: Pick<Models, 'Case' | 'MetricRollupChange' | 'MetricRollupMark' | 'MetricRollupToken'>,
  options: { owner: string; stopped?: () => boolean; now?: () => number },
): Promise<{ outcome: 'complete-already' | 'busy' | 'stopped' | 'done'; cases: number }> {
  const now = options.now ?? Date.now;
  if (await rollupsComplete(models)) return { outcome: 'complete-already', cases: 0 };
  const marks = models.MetricRollupMark.collection;
  const locks = await marks.find({ kind: 'backfill' }).toArray();
  const latest = locks.reduce<{ n: number; beat: number }>(
    (best, lock) => {
      const n = Number(String(lock._id).split('#')[1]);
      const beat = new Date((lock.heartbeatAt ?? lock.at) as Date).getTime();
      return n > best.n ? { n, beat } : best;
    },
    { n: 0, beat: 0 },
  );
  if (latest.n > 0 && now() - latest.beat < BACKFILL_STALE_MS) return { outcome: 'busy', cases: 0 };
  const lockId = `backfill#${latest.n + 1}`;
  try {
    await marks.insertOne({
      _id: lockId as never,
      kind: 'backfill',
      owner: options.owner,
      at: new Date(now()),
      heartbeatAt: new Date(now()),
    });
  } catch (err) {
    if (isDuplicateKeyError(err)) return { outcome: 'busy', cases: 0 };
    throw err;
  }
  // Ids first: the pass then changes the documents it would otherwise be iterating over.
  const pending = await models.Case.find({ rolledUp: null, metrics: { $ne: null } }, { _id: 1 })
    .lean()
    .then((docs) => docs.map((d) => String(d._id)));
  let cases = 0;
  for (const caseId of pending) {
    if (options.stopped?.()) return { outcome: 'stopped', cases };
    await syncCaseRollup(models, caseId);
    cases += 1;
    if (cases % HEARTBEAT_EVERY === 0) {
      await marks.updateOne({ _id: lockId as never }, { $set: { heartbeatAt: new Date(now()) } });
    }
  }
  await markComplete(models);
  return { outcome: 'done', cases };
}

/** The fold lock's window (chosen: a minute). */
const FOLD_WINDOW_MS = 60_000;
/** A folder stops this long before its window ends, so clock skew cannot overlap two (chosen). */
const FOLD_MARGIN_MS = 20_000;
/** How long a folded change's token is kept against late retries (chosen: a week). */
const TOKEN_KEEP_MS = 7 * 24 * 3_600_000;
/** How often the keeper looks for changes to fold (chosen). */
const FOLD_EVERY_MS = 5_000;

/**
 * The worker's roll-up keeper: in the background, backfills an upgraded store once
 * ({@link backfillRollups}), and every {@link FOLD_EVERY_MS} folds the changes while it holds the
 * current minute's fold lock (`fold:<minute>`, inserted once: the first worker to insert it folds
 * that minute). Failures are logged and retried on the next tick.
 */
export function startRollupKeeper(deps: {
  models: Pick<
    Models,
    | 'Case'
    | 'MetricRollup'
    | 'MetricRollupChange'
    | 'MetricRollupMark'
    | 'MetricRollupToken'
    | 'Unit'
    | 'OrgRevision'
  >;
  logger: Pick<Logger, 'info' | 'warn'>;
  owner?: string;
}): { stop(): Promise<void> } {
  const owner = deps.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const marks = deps.models.MetricRollupMark.collection;
  // The unit tree, read again only when the org revision moves (services/org-snapshot.ts).
  const units = createOrgSnapshot({ models: deps.models });
  // Created before the backfill, which asks it whether the keeper was stopped.
  const loop = startBackgroundLoop({
    everyMs: FOLD_EVERY_MS,
    tick: () => foldOnce(),
    onError: (err) => deps.logger.warn({ err }, 'metric roll-up fold failed'),
  });
  const backfill = backfillRollups(deps.models, { owner, stopped: () => loop.isStopped() }).then(
    (report) => {
      if (report.outcome === 'done') deps.logger.info(report, 'metric roll-ups backfilled');
    },
    (err: unknown) =>
      deps.logger.warn({ err }, 'metric roll-up backfill failed; next start retries'),
  );

  async function foldOnce(): Promise<void> {
    const window = Math.floor(Date.now() / FOLD_WINDOW_MS);
    const lockId = `fold:${window}`;
    try {
      await marks.insertOne({ _id: lockId as never, kind: 'fold', owner, window, at: new Date() });
      // Once an hour: old window locks are of no further use (kept an hour), and folded tokens
      // are kept a week (both chosen).
      if (window % 60 === 0) {
        await marks.deleteMany({ kind: 'fold', window: { $lt: window - 60 } });
        await deps.models.MetricRollupToken.deleteMany({
          at: { $lt: new Date(Date.now() - TOKEN_KEEP_MS) },
        });
      }
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      const lock = await marks.findOne({ _id: lockId as never }, { projection: { owner: 1 } });
      if (lock?.owner !== owner) return;
    }
    await foldRollupChanges(deps.models, (window + 1) * FOLD_WINDOW_MS - FOLD_MARGIN_MS, {
      units,
    });
  }

  return {
    async stop() {
      await Promise.all([loop.stop(), backfill]);
    },
  };
}
