import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Actor } from '../common/case';
import { canonicalJson } from '../common/canonical-json';
import type { CatalogueEntry } from '../common/catalogue';
import { catalogueProblems } from '../common/catalogue';
import type { Models } from '../models';
import { isDuplicateKeyError } from '../models';
import type { Principal } from './auth';
import { csvCell, readCsvRows } from './csv-records';
import type { ErrorDetail } from './errors';
import { AppError } from './errors';
import type { OrgSnapshot, OrgSnapshotReader } from '../common/org-snapshot';

/**
 * The dispatch catalogue (派单目录 / 职责清单) as versioned admin data: per owning unit (a county,
 * a street) a list of categories and the department or unit responsible for each. Every change
 * publishes a new revision; revisions are never edited. A case's people lookup reads the
 * revision current when its step runs (activities/lookups.ts).
 *
 * Storage without transactions (FerretDB v1): a revision is one insert-only document keyed
 * `<owner>@<revision>`, and the owner's pointer document is flipped to it last, only ever
 * forwards. A publish that died between the two is finished by the next publish of the same
 * entries; publishing the entries of the current revision again changes nothing.
 */

/** At most this many entries per catalogue (chosen: a county's 职责清单 runs to a few hundred). */
export const MAX_CATALOGUE_ENTRIES = 2000;

const text = (max: number) => z.string().trim().min(1).max(max);
const unitId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a unit id: letters, digits, _ and -');

/** One entry as the JSON API takes it. */
export const catalogueEntryInput = z
  .object({
    category: z.string().trim().max(100),
    subcategory: text(100).optional(),
    keywords: z.array(text(50)).max(20).optional(),
    unitId,
    coUnitIds: z.array(unitId).max(20).optional(),
    timeLimit: text(50).optional(),
    note: text(500).optional(),
  })
  .strict();

/** A list cell of the CSV: items separated by `;` or `、`. */
const listCell = z.string().transform((cell) =>
  cell
    .split(/[;；、]/)
    .map((item) => item.trim())
    .filter((item) => item !== ''),
);

/** One CSV row: the columns of {@link catalogueEntryInput}, lists in one cell. */
const catalogueCsvRow = z
  .object({
    category: z.string().max(100),
    subcategory: z.string().max(100).optional(),
    keywords: listCell.optional(),
    unitId,
    coUnitIds: listCell.optional(),
    timeLimit: z.string().max(50).optional(),
    note: z.string().max(500).optional(),
  })
  .strict();

export const CATALOGUE_CSV_COLUMNS = Object.keys(catalogueCsvRow.shape);

export interface CatalogueSummary {
  ownerUnitId: string;
  ownerName: string | null;
  revision: number;
  entryCount: number;
  updatedAt: string;
}

export interface CatalogueRevisionSummary {
  ownerUnitId: string;
  revision: number;
  entryCount: number;
  checksum: string;
  publishedAt: string;
  publishedBy: Actor;
}

export interface CatalogueView extends CatalogueRevisionSummary {
  ownerName: string | null;
  /** Whether this is the revision cases are routed by now. */
  current: boolean;
  entries: CatalogueEntry[];
}

/** Names an entry's field in an error detail: `body.entries[3].unitId` for JSON. */
export type EntryPathOf = (index: number, field: string) => string;

const jsonPathOf: EntryPathOf = (index, field) => `body.entries[${index}].${field}`;

/** The entry as stored: trimmed, empty optional parts left out. */
function normalise(entry: z.infer<typeof catalogueEntryInput>): CatalogueEntry {
  const out: CatalogueEntry = { category: entry.category.trim(), unitId: entry.unitId };
  if (entry.subcategory) out.subcategory = entry.subcategory.trim();
  if (entry.keywords?.length) out.keywords = entry.keywords.map((k) => k.trim());
  if (entry.coUnitIds?.length) out.coUnitIds = entry.coUnitIds;
  if (entry.timeLimit) out.timeLimit = entry.timeLimit.trim();
  if (entry.note) out.note = entry.note.trim();
  return out;
}

export function createCatalogueService(deps: {
  models: Models;
  snapshot: OrgSnapshotReader;
  clock: () => Date;
}) {
  const { Catalogue, CatalogueRevision } = deps.models;

  /** Admins read every catalogue; others those of their units, below and above them. */
  function mayRead(principal: Principal, tree: OrgSnapshot, ownerUnitId: string): boolean {
    if (principal.roles.includes('admin')) return true;
    if (!principal.roles.includes('dispatcher') && !principal.roles.includes('staff')) {
      return false;
    }
    const ancestry = (id: string): string[] => {
      const chain: string[] = [];
      for (let u = tree.byId.get(id); u && !chain.includes(u.id);) {
        chain.push(u.id);
        u = u.parentId === null ? undefined : tree.byId.get(u.parentId);
      }
      return chain;
    };
    return principal.unitIds.some(
      (own) => ancestry(own).includes(ownerUnitId) || ancestry(ownerUnitId).includes(own),
    );
  }

  async function readable(principal: Principal, ownerUnitId: string): Promise<OrgSnapshot> {
    const tree = await deps.snapshot.get();
    if (!tree.byId.has(ownerUnitId)) {
      throw new AppError('not_found', `No unit "${ownerUnitId}"`);
    }
    // Out of scope answers like an unknown unit's catalogue: nothing is told about it.
    if (!mayRead(principal, tree, ownerUnitId)) {
      throw new AppError('not_found', `Unit "${ownerUnitId}" has no catalogue you may read`);
    }
    return tree;
  }

  function summaryOf(doc: {
    ownerUnitId: string;
    revision: number;
    checksum: string;
    entries: unknown[];
    publishedAt: Date;
    publishedBy: { kind: string; id: string };
  }): CatalogueRevisionSummary {
    return {
      ownerUnitId: doc.ownerUnitId,
      revision: doc.revision,
      entryCount: doc.entries.length,
      checksum: doc.checksum,
      publishedAt: doc.publishedAt.toISOString(),
      publishedBy: { kind: doc.publishedBy.kind, id: doc.publishedBy.id } as Actor,
    };
  }

  async function latestRevisionDoc(ownerUnitId: string) {
    return CatalogueRevision.findOne({ ownerUnitId }).sort({ revision: -1 }).lean();
  }

  /** Moves the owner's pointer to `revision` unless it already points there or later. */
  async function flipPointer(ownerUnitId: string, revision: number, entryCount: number) {
    try {
      await Catalogue.updateOne(
        { _id: ownerUnitId, revision: { $lt: revision } },
        { $set: { revision, entryCount, updatedAt: deps.clock() } },
        { upsert: true },
      );
    } catch (err) {
      // The pointer is at this revision or a later one already.
      if (!isDuplicateKeyError(err)) throw err;
    }
  }

  const service = {
    /** The catalogues the principal may read, with their current revision. */
    async list(principal: Principal): Promise<CatalogueSummary[]> {
      const tree = await deps.snapshot.get();
      const docs = await Catalogue.find({}).lean();
      return docs
        .filter((d) => tree.byId.has(d._id) && mayRead(principal, tree, d._id))
        .map((d) => ({
          ownerUnitId: d._id,
          ownerName: tree.byId.get(d._id)?.name ?? null,
          revision: d.revision,
          entryCount: d.entryCount,
          updatedAt: d.updatedAt.toISOString(),
        }))
        .sort((a, b) => (a.ownerUnitId < b.ownerUnitId ? -1 : 1));
    },

    /** A unit's catalogue: the current revision, or the one asked for. */
    async get(
      principal: Principal,
      ownerUnitId: string,
      revision?: number,
    ): Promise<CatalogueView> {
      const tree = await readable(principal, ownerUnitId);
      const pointer = await Catalogue.findById(ownerUnitId).lean();
      const wanted = revision ?? pointer?.revision;
      const doc =
        wanted === undefined
          ? null
          : await CatalogueRevision.findById(`${ownerUnitId}@${wanted}`).lean();
      if (!doc) {
        throw new AppError(
          'not_found',
          revision === undefined
            ? `Unit "${ownerUnitId}" has no catalogue yet`
            : `Unit "${ownerUnitId}" has no catalogue revision ${revision}`,
        );
      }
      return {
        ...summaryOf(doc),
        ownerName: tree.byId.get(ownerUnitId)?.name ?? null,
        current: doc.revision === pointer?.revision,
        entries: doc.entries as CatalogueEntry[],
      };
    },

    /** Every published revision of a unit's catalogue, newest first. */
    async revisions(
      principal: Principal,
      ownerUnitId: string,
    ): Promise<CatalogueRevisionSummary[]> {
      await readable(principal, ownerUnitId);
      const docs = await CatalogueRevision.find({ ownerUnitId }).sort({ revision: -1 }).lean();
      return docs.map(summaryOf);
    },

    /**
     * Publishes a unit's catalogue as its next revision, checked as a whole first: nothing is
     * written when any entry is wrong, and each problem names its entry and field. The same
     * entries as the current revision publish nothing (`created: false`).
     */
    async publish(
      principal: Principal,
      ownerUnitId: string,
      input: Array<z.infer<typeof catalogueEntryInput>>,
      options: { pathOf?: EntryPathOf } = {},
    ): Promise<{ created: boolean; catalogue: CatalogueView }> {
      const pathOf = options.pathOf ?? jsonPathOf;
      const tree = await deps.snapshot.get();
      if (!tree.byId.has(ownerUnitId)) {
        throw new AppError('not_found', `No unit "${ownerUnitId}" to own a catalogue`);
      }
      if (input.length > MAX_CATALOGUE_ENTRIES) {
        throw new AppError('unprocessable', 'The catalogue is too long', [
          {
            path: 'body.entries',
            message: `at most ${MAX_CATALOGUE_ENTRIES} entries, found ${input.length}`,
          },
        ]);
      }
      const entries = input.map(normalise);
      const problems: ErrorDetail[] = catalogueProblems(entries, (id) => tree.byId.has(id)).map(
        (p) => ({ path: pathOf(p.index, p.field), message: p.message }),
      );
      if (problems.length > 0) {
        const first = problems[0]!;
        throw new AppError(
          'unprocessable',
          `The catalogue is not valid, nothing was published: ${first.path}: ${first.message}`,
          problems,
        );
      }
      const checksum = createHash('sha256').update(canonicalJson(entries)).digest('hex');
      const pointer = await Catalogue.findById(ownerUnitId).lean();
      const latest = await latestRevisionDoc(ownerUnitId);
      if (latest && latest.checksum === checksum) {
        // Already published (or published up to the pointer flip by a publish that died then).
        if ((pointer?.revision ?? 0) < latest.revision) {
          await flipPointer(ownerUnitId, latest.revision, entries.length);
        }
        return {
          created: (pointer?.revision ?? 0) < latest.revision,
          catalogue: await service.get(principal, ownerUnitId),
        };
      }
      const revision = (latest?.revision ?? 0) + 1;
      try {
        await CatalogueRevision.create({
          _id: `${ownerUnitId}@${revision}`,
          ownerUnitId,
          revision,
          checksum,
          entries,
          publishedAt: deps.clock(),
          publishedBy: { kind: principal.kind, id: principal.id },
        });
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
        throw new AppError(
          'conflict',
          `Revision ${revision} of the catalogue of "${ownerUnitId}" was published meanwhile; read it and publish again`,
        );
      }
      await flipPointer(ownerUnitId, revision, entries.length);
      return { created: true, catalogue: await service.get(principal, ownerUnitId) };
    },

    /**
     * Publishes a unit's catalogue from a CSV file (columns {@link CATALOGUE_CSV_COLUMNS}, lists
     * separated by `;` or `、`), the whole file as the new revision. Every problem names its
     * cell, `row 7, column unitId`; any problem rejects the file.
     */
    async importCsv(
      principal: Principal,
      ownerUnitId: string,
      body: string,
    ): Promise<{ created: boolean; catalogue: CatalogueView }> {
      const rows = readCsvRows(body, catalogueCsvRow, { maxRows: MAX_CATALOGUE_ENTRIES });
      const input = rows.map(({ value }) => ({
        ...value,
        subcategory: value.subcategory?.trim() || undefined,
        timeLimit: value.timeLimit?.trim() || undefined,
        note: value.note?.trim() || undefined,
      }));
      return service.publish(principal, ownerUnitId, input, {
        pathOf: (index, field) => csvCell(rows[index]!.row, field),
      });
    },
  };
  return service;
}

export type CatalogueService = ReturnType<typeof createCatalogueService>;
