import { ApplicationFailure } from '@temporalio/activity';
import { workingCalendarOf } from '../calendars';
import type { Candidate, ResolvedPeople } from '../common/case';
import type { DefinitionSnapshot, DefinitionSpec, UnitAt, UnitRef } from '../lang/definition';
import type { UnitType } from '../lang/vocabulary';
import { chinaDayOf, OrgTree } from '../common/org-tree';
import { readOrgRevision } from '../models/org-revision';
import type { OrgSelector } from '../common/people-selector';
import { baseOfReference, homeUnitOf, selectPeople } from '../common/people-selector';
import type { CatalogueEntry, CatalogueRevisionView } from '../common/catalogue';
import { coveringOwner, selectByCatalogue } from '../common/catalogue';
import type { ClockPause, DeadlinePlan, DeadlinePolicy } from '../common/sla';
import { planDeadline } from '../common/sla';
import { CalendarError } from '../common/working-calendar';
import type { ActivityDependencies } from './dependencies';

/**
 * A unit reference as the lookup receives it: the workflow evaluates `{ of: { expression } }`
 * (it has the case's steps and forms) and sends the unit id it gave, or null.
 */
export type WireUnitRef =
  | Extract<UnitRef, string>
  | { of: 'case' | 'assignee' | { field: string } | { unit: string | null }; at: UnitAt };

/**
 * A dispatch-catalogue unit reference as the lookup receives it: the workflow evaluates the
 * category expression and sends the category it gave, or null.
 */
export interface WireCatalogueRef {
  catalogue: { category: string | null };
  otherwise?: WireUnitRef | { role: string; unit: WireUnitRef };
}

/** A role selector as the lookup receives it (see {@link WireUnitRef}). */
export type WireRoleSelector =
  | { role: string; unit: WireUnitRef | WireCatalogueRef }
  | { role: string; unitsOfType: UnitType; under: WireUnitRef }
  | {
      pairedWith: WireUnitRef;
      kind?: string | readonly string[];
      role?: string;
      andBelow?: boolean;
    }
  | { role: string; chain: 'down'; under: WireUnitRef; unitTypes?: readonly UnitType[] };

export type ResolvePeopleRequest =
  | { persons: readonly string[]; caseUnitId: string | null }
  | {
      selector: WireRoleSelector | { person: string };
      caseUnitId: string | null;
      assigneeUnitId: string | null;
      data: Record<string, unknown>;
    };

/**
 * Reads the workflow needs from admin data: who holds a role where (with 兜底 fallback up the
 * tree) or is paired with a unit (包联), SLA instants on the working calendar, and published definitions for sub-processes.
 * Reads only, so retries are harmless.
 */
export function createLookupActivities(deps: ActivityDependencies) {
  const { Unit, Post, Pairing, Person, CalendarYear, Definition, Catalogue, CatalogueRevision } =
    deps.models;
  /**
   * The org tree and people's accounts as of one org revision (models/org-revision.ts). Every
   * lookup reads the revision first (one `_id` read) and reloads when an org write has bumped it,
   * so people imported a moment ago are called by the next case, not after a cache expires.
   */
  let cached: { tree: OrgTree; revision: number } | null = null;
  let accounts = new Map<string, string | null>();
  let accountsRevision = -1;
  let accountsLoaded = false;

  async function orgTree(): Promise<OrgTree> {
    const revision = await readOrgRevision(deps.models);
    if (cached && cached.revision === revision) return cached.tree;
    const units = await Unit.find({}).lean();
    const posts = await Post.find({}).lean();
    const pairings = await Pairing.find({}).lean();
    const tree = new OrgTree(
      units.map((u) => ({
        id: u._id,
        name: u.name,
        type: u.type as UnitType,
        parentId: u.parentId ?? null,
      })),
      posts.map((p) => ({ unitId: p.unitId, role: p.role, personId: p.personId })),
      pairings,
    );
    cached = { tree, revision };
    return tree;
  }

  async function candidatesOf(personIds: readonly string[], unitOf: (id: string) => string) {
    const revision = cached?.revision ?? (await readOrgRevision(deps.models));
    if (revision !== accountsRevision) {
      accounts = new Map();
      accountsLoaded = false;
      accountsRevision = revision;
    }
    let unknown = personIds.filter((id) => !accounts.has(id));
    if (unknown.length > 0 && !accountsLoaded) {
      // Everyone's account once per org revision, like the tree itself: on FerretDB v1 an
      // `_id: { $in }` read is a scan of every person all the same, so a roll-call over 300
      // compounds read the people 1,200 times (bench:rollcall, issue 14).
      accountsLoaded = true;
      const people = await Person.find({}, { userId: 1 }).lean();
      for (const p of people) accounts.set(p._id, p.userId ?? null);
      unknown = unknown.filter((id) => !accounts.has(id));
    }
    if (unknown.length > 0) {
      // Written after the revision was read: asked for by id.
      const people = await Person.find({ _id: { $in: unknown } }, { userId: 1 }).lean();
      for (const p of people) accounts.set(p._id, p.userId ?? null);
    }
    return personIds.flatMap((id): Candidate[] => {
      const userId = accounts.get(id);
      return userId !== undefined ? [{ personId: id, userId, unitId: unitOf(id) }] : [];
    });
  }

  /**
   * The dispatch catalogue covering a case's unit at its current revision: the nearest owning
   * unit at or above it (services/catalogue.ts keeps the pointers and revisions).
   */
  async function coveringCatalogue(
    tree: OrgTree,
    caseUnitId: string | null,
  ): Promise<CatalogueRevisionView | null> {
    const ids =
      caseUnitId !== null && tree.has(caseUnitId)
        ? tree.ancestry(caseUnitId).map((u) => u.id)
        : null;
    const pointers = await Catalogue.find(ids === null ? {} : { _id: { $in: ids } }).lean();
    const owner = coveringOwner(tree, caseUnitId, new Set(pointers.map((p) => p._id)));
    const pointer = pointers.find((p) => p._id === owner);
    if (!owner || !pointer) return null;
    const doc = await CatalogueRevision.findById(`${owner}@${pointer.revision}`).lean();
    if (!doc) return null;
    return {
      ownerUnitId: owner,
      revision: doc.revision,
      entries: doc.entries as CatalogueEntry[],
    };
  }

  return {
    /** People a selector means for this case, as candidates (person, account, unit). */
    async resolvePeople(request: ResolvePeopleRequest): Promise<ResolvedPeople> {
      const tree = await orgTree();
      const none: ResolvedPeople = { people: [], unitId: null, unitName: null, fellBack: false };
      if ('persons' in request) {
        const unitOf = (id: string) => homeUnitOf(tree, id, request.caseUnitId);
        return { ...none, people: await candidatesOf(request.persons, unitOf) };
      }
      const { selector } = request;
      if ('unit' in selector && typeof selector.unit === 'object' && 'catalogue' in selector.unit) {
        const catalogue = await coveringCatalogue(tree, request.caseUnitId);
        const selected = selectByCatalogue(tree, selector.role, selector.unit, request, catalogue);
        const unitOfPerson = new Map(selected.people.map((p) => [p.personId, p.unitId]));
        return {
          people: await candidatesOf(
            selected.people.map((p) => p.personId),
            (id) => unitOfPerson.get(id)!,
          ),
          unitId: selected.unit?.id ?? null,
          unitName: selected.unit?.name ?? null,
          fellBack: selected.fellBack,
          catalogue: selected.routing,
        };
      }
      // Pairings count on the day the lookup runs (China time): a period is admin data.
      const today = chinaDayOf(deps.clock());
      const selected = selectPeople(tree, selector as OrgSelector, { ...request, today });
      const unitOfPerson = new Map(selected.people.map((p) => [p.personId, p.unitId]));
      return {
        people: await candidatesOf(
          selected.people.map((p) => p.personId),
          (id) => unitOfPerson.get(id)!,
        ),
        unitId: selected.unit?.id ?? null,
        unitName: selected.unit?.name ?? null,
        fellBack: selected.fellBack,
      };
    },

    /**
     * Units of a type at or below a unit, for a sub-process fanning out over the org tree (every
     * grid of a street), parents' children in id order. `within: case` on a case without a unit
     * means the whole tree. The ids come back only up to `limit`; beyond it just the count, which
     * the workflow refuses (its history need not carry thousands of ids it will not use).
     */
    async findUnits(request: {
      type: UnitType;
      within: WireUnitRef;
      caseUnitId: string | null;
      data: Record<string, unknown>;
      limit: number;
    }): Promise<{ count: number; unitIds: string[] }> {
      const tree = await orgTree();
      const { within } = request;
      const wholeTree =
        request.caseUnitId === null &&
        (within === 'case' ||
          (typeof within === 'object' && within.of === 'case' && within.at === 'self'));
      let found: string[];
      if (wholeTree) {
        const units = await Unit.find({ type: request.type }, { _id: 1 }).lean();
        found = units.map((u) => u._id).sort();
      } else {
        const { base, relation } = baseOfReference(tree, within, {
          ...request,
          assigneeUnitId: null,
        });
        const under = base === null ? null : tree.relate(base, relation);
        found = under
          ? tree
              .descendants(under.id)
              .filter((u) => u.type === request.type)
              .map((u) => u.id)
          : [];
      }
      return { count: found.length, unitIds: found.length > request.limit ? [] : found };
    },

    /** Absolute instants of a deadline on today's working calendar (see common/sla.ts). */
    async planDeadline(request: {
      policy: DeadlinePolicy;
      startedAt: string;
      pauses: ClockPause[];
    }): Promise<DeadlinePlan> {
      const years = await CalendarYear.find({}).lean();
      const calendar = workingCalendarOf(years, deps.workingWindows);
      try {
        return planDeadline(calendar, request.policy, request.startedAt, request.pauses);
      } catch (err) {
        if (err instanceof CalendarError) {
          throw ApplicationFailure.nonRetryable(err.message, 'CalendarError');
        }
        throw err;
      }
    },

    /**
     * The versions a case will start its sub-processes with, pinned when it starts: the latest
     * published version of each key (keys with none are left out; the step fails when reached).
     */
    async pinDefinitions(keys: readonly string[]): Promise<Record<string, number>> {
      const pinned: Record<string, number> = {};
      for (const key of [...new Set(keys)].sort()) {
        const doc = await Definition.findOne({ key, status: 'published' }, { version: 1 })
          .sort({ version: -1 })
          .lean();
        if (doc) pinned[key] = doc.version;
      }
      return pinned;
    },

    /**
     * A process for a sub-process step: the version the case pinned when it started (published
     * or retired since: a running case keeps what it started with), else the latest published.
     */
    async loadDefinition(key: string, version?: number): Promise<DefinitionSnapshot> {
      const doc =
        version === undefined
          ? await Definition.findOne({ key, status: 'published' }).sort({ version: -1 }).lean()
          : await Definition.findOne({
              key,
              version,
              status: { $in: ['published', 'retired'] },
            }).lean();
      if (!doc) {
        throw ApplicationFailure.nonRetryable(
          version === undefined
            ? `No published definition "${key}" to start as a sub-process`
            : `No version ${version} of definition "${key}" to start as a sub-process`,
          'DefinitionNotFound',
        );
      }
      return {
        key: doc.key,
        version: doc.version,
        checksum: doc.checksum,
        spec: doc.spec as DefinitionSpec,
      };
    },
  };
}
