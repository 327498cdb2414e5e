import type { mongo } from 'mongoose';
import type { Models } from '../models';
import { isDuplicateKeyError } from '../models';

/**
 * The index of open cases (collection `openCases`, docs/metrics-at-scale.md "A rare filter: the
 * open cases"): one small document per open case, so `status=open` over a unit with years of
 * history reads a few hundred small documents in one equality instead of walking every day that
 * holds a case. Open cases are few (a county of 200,000 cases a year has a few hundred open at
 * once); every case passes through `open`, so keys per status with day markers would mark every
 * day and skip nothing.
 *
 * Each entry holds the case fields the list filters on, sorts by and shows, with the same names,
 * so the list's own filter (and the scope's) applies to it unchanged; and `roots`, the case's list
 * roots (common/list-days.ts), as a top-level array equality FerretDB pushes down.
 */

/** The mark that the open cases of a store written before the index are in it. */
export const OPEN_CASES_COMPLETE = '#complete';

export const OPEN_CASE_FIELDS = {
  revision: 1,
  status: 1,
  definitionKey: 1,
  definitionVersion: 1,
  definitionName: 1,
  unitId: 1,
  category: 1,
  currentStep: 1,
  createdBy: 1,
  createdAt: 1,
  updatedAt: 1,
  closedAt: 1,
  metrics: 1,
  listDays: 1,
} as const;

export interface CaseFields {
  _id: string;
  revision: number;
  status: string;
  listDays?: string[] | null;
  metrics?: Record<string, unknown> | null;
  [field: string]: unknown;
}

/**
 * The case's list roots: its day keys without the day (`*`, `u:…`, `by:…`); not the keyed roots of
 * its process, category or states (`u:…+c:…`), which `status=open` never reads.
 */
function rootsOfKeys(keys: readonly string[]): string[] {
  return [
    ...new Set(
      keys
        .filter((k) => !k.includes('T'))
        .map((k) => k.slice(0, k.lastIndexOf('|')))
        .filter((root) => !root.includes('+')),
    ),
  ];
}

/** A case's entry (pure: the bench builds them the same way). */
export function openEntryOf(doc: CaseFields): Record<string, unknown> {
  const { listDays, metrics, ...withId } = doc;
  const fields: Record<string, unknown> = { ...withId };
  delete fields._id;
  const kept: Record<string, unknown> = {};
  for (const flag of ['overdue', 'escalated']) {
    if (metrics?.[flag] !== undefined) kept[flag] = metrics[flag];
  }
  return { ...fields, metrics: kept, roots: rootsOfKeys(listDays ?? []) };
}

type OpenModels = Pick<Models, 'Case' | 'OpenCase'>;

/**
 * Brings a case's entry in line with the case document as it is now: written (over an older
 * revision's, never a newer one's) while the case is open, deleted when it is not. Called after
 * each projected revision, on retries too: idempotent.
 */
export async function syncOpenCase(models: OpenModels, caseId: string): Promise<void> {
  const doc = (await models.Case.findById(caseId, OPEN_CASE_FIELDS).lean()) as CaseFields | null;
  await writeOpenEntry(models, caseId, doc);
}

/**
 * {@link syncOpenCase} over the case as the caller holds it (at least {@link OPEN_CASE_FIELDS}),
 * read or returned by the write that made it so: the projection's write returns it, which spares a
 * read of the case per revision. `null`: no such case.
 */
export async function writeOpenEntry(
  models: Pick<Models, 'OpenCase'>,
  caseId: string,
  doc: CaseFields | null,
): Promise<void> {
  const raw = models.OpenCase.collection as unknown as mongo.Collection<{ _id: string }>;
  if (!doc || doc.status !== 'open' || !doc.listDays) {
    await raw.deleteOne({ _id: caseId });
    return;
  }
  try {
    await raw.replaceOne(
      { _id: caseId, revision: { $lte: doc.revision } },
      openEntryOf(pick(doc)),
      {
        upsert: true,
      },
    );
  } catch (err) {
    // A newer revision's entry is there already (the filter missed it, the upsert collided).
    if (!isDuplicateKeyError(err)) throw err;
  }
}

/** The entry's fields of a case document holding more (the projection's returns more). */
function pick(doc: CaseFields): CaseFields {
  const picked: Record<string, unknown> = { _id: doc._id };
  for (const field of Object.keys(OPEN_CASE_FIELDS)) {
    if (doc[field] !== undefined) picked[field] = doc[field];
  }
  return picked as CaseFields;
}

/** A revision that leaves the case not open: its entry goes (no read needed). */
export async function dropOpenCase(models: Pick<Models, 'OpenCase'>, caseId: string) {
  await models.OpenCase.deleteOne({ _id: caseId });
}

export async function openCasesComplete(models: Pick<Models, 'OpenCase'>): Promise<boolean> {
  return (await models.OpenCase.findById(OPEN_CASES_COMPLETE, { _id: 1 }).lean()) !== null;
}

/**
 * Indexes a store's open cases (an upgraded store, or `npm run rebuild-rollups`): syncs every
 * case that is open and every entry whose case may not be any more, then marks it complete.
 * Each entry goes through {@link syncOpenCase}, so this and the projection can run side by side.
 */
export async function backfillOpenCases(
  models: OpenModels,
): Promise<{ cases: number; open: number }> {
  const open = await models.Case.find({ status: 'open' }, { _id: 1 }).lean();
  const entries = await models.OpenCase.find({}, { _id: 1 }).lean();
  const ids = new Set([...open, ...entries].map((d) => String(d._id)));
  ids.delete(OPEN_CASES_COMPLETE);
  for (const id of ids) await syncOpenCase(models, id);
  await markOpenCasesComplete(models);
  return { cases: ids.size, open: open.length };
}

export async function markOpenCasesComplete(models: Pick<Models, 'OpenCase'>): Promise<void> {
  const raw = models.OpenCase.collection as unknown as mongo.Collection<{ _id: string }>;
  await raw.updateOne(
    { _id: OPEN_CASES_COMPLETE },
    { $setOnInsert: { revision: 0 } },
    { upsert: true },
  );
}
