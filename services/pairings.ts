import type { Pairing as OrgPairing } from '../common/org-tree';
import type { Models } from '../models';
import { bumpOrgRevision } from '../models/org-revision';
import { isDuplicateKeyError } from '../models';
import type { Principal } from './auth';
import type { ErrorDetail } from './errors';
import { AppError } from './errors';
import type { PairingInput } from './pairing-input';
import { skipOf, totalOf } from './paging';
import type { ScopeResolver } from './scope';

/**
 * 包联 (pairings): who looks after a unit besides the people posted in it, a person (县级领导包联
 * 社区, 干部包楼栋) or a unit (单位包联小区, 共建). Stored one document per pairing under a
 * deterministic `_id` (models/pairing.ts), written by the org import (org-import.ts, JSON and
 * CSV) and one at a time here; every write bumps the org revision, so the worker's lookups
 * (people selectors `pairedWith`, common/people-selector.ts) see it on their next read.
 */

/** A pairing as readers see it: with the names of the units and the person (never contacts). */
export interface PairingView {
  id: string;
  unitId: string;
  unitName: string;
  kind: string;
  personId?: string;
  personName?: string;
  partnerUnitId?: string;
  partnerUnitName?: string;
  validFrom?: string;
  validUntil?: string;
}

/** `<kind>:<unit>:person:<person>` or `<kind>:<unit>:unit:<partner unit>` (ids hold no colon). */
export function pairingIdOf(pairing: PairingInput): string {
  return pairing.personId !== undefined
    ? `${pairing.kind}:${pairing.unitId}:person:${pairing.personId}`
    : `${pairing.kind}:${pairing.unitId}:unit:${pairing.partnerUnitId ?? ''}`;
}

/** Names a field of one pairing in an error detail (`body.pairings[3].unitId`, `row 5, column unitId`). */
export type PairingPathOf = (index: number, field: string) => string;

/**
 * What in these pairings the org tree lacks: unknown units (the unit, the partner) and unknown
 * people, each named at its field. `knownUnit` answers for the units stored and being imported;
 * `importedPeople` are people of the same import.
 */
export async function pairingProblems(
  models: Pick<Models, 'Person'>,
  pairings: readonly PairingInput[],
  knownUnit: (id: string) => boolean,
  importedPeople: ReadonlySet<string>,
  pathOf: PairingPathOf,
): Promise<ErrorDetail[]> {
  const asked = [
    ...new Set(pairings.flatMap((p) => (p.personId === undefined ? [] : [p.personId]))),
  ].filter((id) => !importedPeople.has(id));
  const stored = new Set(
    asked.length === 0
      ? []
      : (await models.Person.find({ _id: { $in: asked.sort() } }, { _id: 1 }).lean()).map(
          (p) => p._id,
        ),
  );
  const problems: ErrorDetail[] = [];
  pairings.forEach((pairing, i) => {
    if (!knownUnit(pairing.unitId)) {
      problems.push({ path: pathOf(i, 'unitId'), message: `unknown unit "${pairing.unitId}"` });
    }
    if (pairing.partnerUnitId !== undefined && !knownUnit(pairing.partnerUnitId)) {
      problems.push({
        path: pathOf(i, 'partnerUnitId'),
        message: `unknown unit "${pairing.partnerUnitId}"`,
      });
    }
    const person = pairing.personId;
    if (person !== undefined && !importedPeople.has(person) && !stored.has(person)) {
      problems.push({ path: pathOf(i, 'personId'), message: `unknown person "${person}"` });
    }
  });
  return problems;
}

/** Batch size of pairing inserts (chosen: the org import's batch for units and people). */
const INSERT_BATCH = 500;

/**
 * Writes checked pairings: new ones inserted in batches (a duplicate key is one written
 * meanwhile, left as it is), one whose period changed updated alone, unchanged ones not written.
 * The caller bumps the org revision. Returns how many documents were inserted or updated.
 */
export async function writePairings(
  models: Pick<Models, 'Pairing'>,
  pairings: readonly PairingInput[],
  now: Date,
): Promise<number> {
  const { Pairing } = models;
  const docs = new Map(pairings.map((p) => [pairingIdOf(p), documentOf(p, now)]));
  const ids = [...docs.keys()].sort();
  const stored = new Map(
    ids.length === 0
      ? []
      : (await Pairing.find({ _id: { $in: ids } }).lean()).map((d) => [d._id, d]),
  );
  const fresh = [...docs.values()].filter((d) => !stored.has(d._id));
  for (let start = 0; start < fresh.length; start += INSERT_BATCH) {
    await Pairing.insertMany(fresh.slice(start, start + INSERT_BATCH), { ordered: false }).catch(
      (err: unknown) => {
        if (!isDuplicateKeyError(err)) throw err;
      },
    );
  }
  let changed = fresh.length;
  for (const doc of docs.values()) {
    const old = stored.get(doc._id);
    if (!old || (old.validFrom === doc.validFrom && old.validUntil === doc.validUntil)) continue;
    await Pairing.updateOne(
      { _id: doc._id },
      { $set: { validFrom: doc.validFrom, validUntil: doc.validUntil, updatedAt: now } },
    );
    changed += 1;
  }
  return changed;
}

function documentOf(pairing: PairingInput, now: Date) {
  return {
    _id: pairingIdOf(pairing),
    unitId: pairing.unitId,
    kind: pairing.kind,
    personId: pairing.personId ?? null,
    partnerUnitId: pairing.partnerUnitId ?? null,
    validFrom: pairing.validFrom ?? null,
    validUntil: pairing.validUntil ?? null,
    updatedAt: now,
  };
}

/** Pairings a unit view lists (chosen: a compound has a handful; the list route has them all). */
const UNIT_VIEW_PAIRINGS = 100;

/** The pairing read API and one-at-a-time edits (admins write; dispatchers and staff read in scope). */
export function createPairingService(deps: {
  models: Models;
  scope: ScopeResolver;
  clock: () => Date;
}) {
  const { Pairing, Person } = deps.models;

  async function viewsOf(
    docs: ReadonlyArray<OrgPairing & { _id: string }>,
  ): Promise<PairingView[]> {
    const { byId } = await deps.scope.units();
    const personIds = [...new Set(docs.flatMap((d) => (d.personId ? [d.personId] : [])))].sort();
    const people =
      personIds.length === 0
        ? []
        : await Person.find({ _id: { $in: personIds } }, { name: 1 }).lean();
    const names = new Map(people.map((p) => [p._id, p.name]));
    return docs.map((d) => ({
      id: d._id,
      unitId: d.unitId,
      unitName: byId.get(d.unitId)?.name ?? '',
      kind: d.kind,
      ...(d.personId ? { personId: d.personId, personName: names.get(d.personId) ?? '' } : {}),
      ...(d.partnerUnitId
        ? {
            partnerUnitId: d.partnerUnitId,
            partnerUnitName: byId.get(d.partnerUnitId)?.name ?? '',
          }
        : {}),
      ...(d.validFrom ? { validFrom: d.validFrom } : {}),
      ...(d.validUntil ? { validUntil: d.validUntil } : {}),
    }));
  }

  return {
    /**
     * A page of pairings, by id: of a unit (`unitId`: who looks after it), of a partner unit or a
     * person (what they look after), of a kind. Outside admins, only pairings whose unit or
     * partner unit lies in the reader's scope.
     */
    async list(
      principal: Principal,
      query: {
        unitId?: string;
        partnerUnitId?: string;
        personId?: string;
        kind?: string;
        page: number;
        pageSize: number;
      },
    ): Promise<{ items: PairingView[]; page: number; pageSize: number; total: number }> {
      const scope = await deps.scope.resolve(principal);
      const filter: Record<string, unknown> = {};
      for (const field of ['unitId', 'partnerUnitId', 'personId', 'kind'] as const) {
        if (query[field] !== undefined) filter[field] = query[field];
      }
      if (!scope.all) {
        const units = [...scope.unitIds].sort();
        filter.$or = [{ unitId: { $in: units } }, { partnerUnitId: { $in: units } }];
      }
      const docs = await Pairing.find(filter)
        .sort({ _id: 1 })
        .skip(skipOf(query))
        .limit(query.pageSize)
        .lean();
      const total = await totalOf(query, docs.length, () => Pairing.countDocuments(filter));
      return { items: await viewsOf(docs), page: query.page, pageSize: query.pageSize, total };
    },

    /**
     * Who is paired with a unit, the first {@link UNIT_VIEW_PAIRINGS} by id: the unit view's
     * list (`GET /api/v1/org/units/:id`, readable like its posts); the list route pages them all.
     */
    async ofUnit(unitId: string): Promise<PairingView[]> {
      const docs = await Pairing.find({ unitId }).sort({ _id: 1 }).limit(UNIT_VIEW_PAIRINGS).lean();
      return viewsOf(docs);
    },

    /** Creates a pairing or changes its period; its units and person must exist. */
    async save(input: PairingInput): Promise<{ created: boolean; pairing: PairingView }> {
      const { byId } = await deps.scope.units();
      const problems = await pairingProblems(
        deps.models,
        [input],
        (id) => byId.has(id),
        new Set(),
        (_i, field) => `body.${field}`,
      );
      if (problems.length > 0) {
        throw new AppError(
          'unprocessable',
          'The pairing names an unknown unit or person',
          problems,
        );
      }
      const id = pairingIdOf(input);
      const existing = await Pairing.findById(id, { _id: 1 }).lean();
      await writePairings(deps.models, [input], deps.clock());
      await bumpOrgRevision(deps.models);
      const doc = await Pairing.findById(id).lean();
      return { created: !existing, pairing: (await viewsOf(doc ? [doc] : []))[0]! };
    },

    /** Ends a pairing for good (a past period is better kept with `validUntil`). */
    async remove(id: string): Promise<void> {
      const result = await Pairing.deleteOne({ _id: id });
      if (result.deletedCount === 0) throw new AppError('not_found', `No pairing "${id}"`);
      await bumpOrgRevision(deps.models);
    },
  };
}

export type PairingService = ReturnType<typeof createPairingService>;
