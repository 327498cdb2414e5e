import { ApplicationFailure } from '@temporalio/activity';
import { workingCalendarOf } from '../calendars';
import type { Candidate, ResolvedPeople } from '../common/case';
import type { DefinitionSnapshot, DefinitionSpec, UnitAt, UnitRef } from '../lang/definition';
import type { UnitType } from '../lang/vocabulary';
import { chinaDayOf, OrgTree } from '../common/org-tree';
import { readOrgRevision } from '../models/org-revision';
import { coalescedRead } from '../common/coalesced-read';
import type { OrgSelector } from '../common/people-selector';
import { baseOfReference, homeUnitOf, selectPeople } from '../common/people-selector';
import type { CatalogueEntry, CatalogueRevisionView } from '../common/catalogue';
import { coveringOwner, selectByCatalogue } from '../common/catalogue';
import type { ClockPause, DeadlinePlan, DeadlinePolicy } from '../common/sla';
import { planDeadline } from '../common/sla';
import { CalendarError } from '../common/working-calendar';
import type { AbsenceReason, AvailablePeople } from '../common/stand-ins';
import {
  Availability,
  replaceAbsent,
  selectAvailablePeople,
  selectOnDuty,
} from '../common/stand-ins';
import type { DutyRota, DutyShift } from '../common/duty-rota';
import { windowsInMinutes } from '../common/working-hours';
import type { RecurrenceCase, RecurrenceGroup } from '../common/recurrence';
import { MAX_RECURRENCE_CASES, placeOf, recurringGroups } from '../common/recurrence';
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

/** `onDuty` as the lookup receives it (see {@link WireUnitRef}). */
export interface WireOnDutySelector {
  onDuty: WireUnitRef;
  role?: string;
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
  /** The case's requester as a candidate: who started it (see `requesterCandidate`). */
  | { requester: { kind: 'user' | 'person'; id: string }; caseUnitId: string | null }
  | {
      selector: WireRoleSelector | { person: string } | WireOnDutySelector;
      caseUnitId: string | null;
      assigneeUnitId: string | null;
      data: Record<string, unknown>;
      /**
       * The moment of selection (ISO 8601, the workflow's time): absent people are replaced by
       * their stand-ins and duty rotas read as of then. Absent in requests of cases recorded
       * before (workflows/patches.ts CHANGES_SINCE_2026_11): post holders as they are.
       */
      at?: string;
    };

/**
 * Reads the workflow needs from admin data: who holds a role where (with 兜底 fallback up the
 * tree) or is paired with a unit (包联), SLA instants on the working calendar, and published definitions for sub-processes.
 * Reads only, so retries are harmless.
 */
export function createLookupActivities(deps: ActivityDependencies) {
  const {
    Case,
    Unit,
    Post,
    Pairing,
    Person,
    CalendarYear,
    Definition,
    Catalogue,
    CatalogueRevision,
    Absence,
    PostBackup,
    DutyRota,
    WorkingHours,
    User,
  } = deps.models;
  /**
   * The org tree and people's accounts as of one org revision (models/org-revision.ts). Every
   * lookup reads the revision first (one `_id` read) and reloads when an org write has bumped it,
   * so people imported a moment ago are called by the next case, not after a cache expires.
   */
  let cached: { tree: OrgTree; revision: number } | null = null;
  /**
   * The org revision, one read shared by the lookups that ask while another is under way (each
   * still sees every write finished before it asked: common/coalesced-read.ts).
   */
  const orgRevision = coalescedRead(() => readOrgRevision(deps.models));
  /**
   * The read of the tree at a revision while it runs: lookups that find the revision new at
   * the same moment (a fan-out's hundreds of cases starting after an import) share that one read
   * instead of each reading every unit, post and pairing (bench:rollcall, 300 compounds).
   */
  let treeLoad: { revision: number; tree: Promise<OrgTree> } | null = null;
  let accounts = new Map<string, string | null>();
  let accountsRevision = -1;
  /** The read of everyone's account at `accountsRevision`, shared like the tree's. */
  let accountsLoad: Promise<void> | null = null;

  async function orgTree(): Promise<OrgTree> {
    const revision = await orgRevision();
    if (cached && cached.revision === revision) return cached.tree;
    if (!treeLoad || treeLoad.revision !== revision) {
      const load = readTree();
      treeLoad = { revision, tree: load };
      load.catch(() => {
        // A failed read is not kept: the next lookup reads again.
        if (treeLoad?.tree === load) treeLoad = null;
      });
    }
    const tree = await treeLoad.tree;
    // Revisions only grow: a read that finished late does not replace a newer tree.
    if (!cached || cached.revision <= revision) cached = { tree, revision };
    return tree;
  }

  async function readTree(): Promise<OrgTree> {
    const units = await Unit.find({}).lean();
    const posts = await Post.find({}).lean();
    const pairings = await Pairing.find({}).lean();
    return new OrgTree(
      units.map((u) => ({
        id: u._id,
        name: u.name,
        type: u.type as UnitType,
        parentId: u.parentId ?? null,
      })),
      posts.map((p) => ({ unitId: p.unitId, role: p.role, personId: p.personId })),
      pairings,
    );
  }

  /**
   * Absences, B-holders and duty rotas as of the org revision the tree was read at: their writes
   * bump it too (services/availability.ts), so they are read again only after one.
   */
  let availabilityCache: {
    availability: Availability;
    rotas: Map<string, DutyRota>;
    revision: number;
  } | null = null;

  async function availabilityOf(): Promise<{
    availability: Availability;
    rotas: Map<string, DutyRota>;
  }> {
    const revision = cached?.revision ?? (await orgRevision());
    if (availabilityCache && availabilityCache.revision === revision) return availabilityCache;
    const absences = await Absence.find({}).lean();
    const backups = await PostBackup.find({}).lean();
    const rotas = await DutyRota.find({}).lean();
    availabilityCache = {
      availability: new Availability(
        absences.map((a) => ({
          id: a._id,
          personId: a.personId,
          from: a.from.toISOString(),
          to: a.to.toISOString(),
          reason: a.reason as AbsenceReason,
          standInId: a.standInId ?? null,
        })),
        backups.map((b) => ({ unitId: b.unitId, role: b.role, personId: b.personId })),
      ),
      rotas: new Map(rotas.map((r) => [r._id, { unitId: r._id, shifts: r.shifts as DutyShift[] }])),
      revision,
    };
    return availabilityCache;
  }

  /** Units' own working hours, kept per org revision like the tree (their writes bump it). */
  let hoursCache: {
    revision: number;
    byUnit: Map<string, { windows: Array<{ start: string; end: string }>; everyDay: boolean }>;
  } | null = null;

  /** The hours a unit works in: its own, else the nearest unit's above it; null for none. */
  async function workingHoursOf(unitId: string) {
    const tree = await orgTree();
    const revision = cached!.revision;
    if (!hoursCache || hoursCache.revision !== revision) {
      const docs = await WorkingHours.find({}).lean();
      hoursCache = {
        revision,
        byUnit: new Map(
          docs.map((d) => [
            d._id,
            {
              windows: d.windows as Array<{ start: string; end: string }>,
              everyDay: d.everyDay ?? false,
            },
          ]),
        ),
      };
    }
    if (!tree.has(unitId)) return null;
    for (const unit of tree.ancestry(unitId)) {
      const hours = hoursCache.byUnit.get(unit.id);
      if (hours) return hours;
    }
    return null;
  }

  /** Selected people as the workflow receives them: candidates, with whom each stands in for. */
  async function resolvedOf(
    selected: AvailablePeople,
    extra: Partial<ResolvedPeople> = {},
  ): Promise<ResolvedPeople> {
    const byId = new Map(selected.people.map((p) => [p.personId, p]));
    const candidates = await candidatesOf(
      selected.people.map((p) => p.personId),
      (id) => byId.get(id)!.unitId,
    );
    return {
      people: candidates.map((c) => {
        const standingInFor = byId.get(c.personId)?.standingInFor;
        return standingInFor !== undefined ? { ...c, standingInFor } : c;
      }),
      unitId: selected.unit?.id ?? null,
      unitName: selected.unit?.name ?? null,
      fellBack: selected.fellBack,
      ...(selected.standIns.length > 0 ? { standIns: selected.standIns } : {}),
      ...extra,
    };
  }

  async function candidatesOf(personIds: readonly string[], unitOf: (id: string) => string) {
    const revision = cached?.revision ?? (await orgRevision());
    if (revision !== accountsRevision) {
      accounts = new Map();
      accountsLoad = null;
      accountsRevision = revision;
    }
    const known = accounts;
    let unknown = personIds.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      // Everyone's account once per org revision, like the tree itself: on FerretDB v1 an
      // `_id: { $in }` read is a scan of every person all the same, so a roll-call over 300
      // compounds read the people 1,200 times (bench:rollcall, issue 14). Lookups running at
      // once share the one read (before, all but the first asked for their people by `$in`).
      if (!accountsLoad) {
        const load = Person.find({}, { userId: 1 })
          .lean()
          .then((people) => {
            for (const p of people) known.set(p._id, p.userId ?? null);
          });
        accountsLoad = load;
        load.catch(() => {
          if (accountsLoad === load) accountsLoad = null;
        });
      }
      await accountsLoad;
      unknown = unknown.filter((id) => !known.has(id));
    }
    if (unknown.length > 0) {
      // Written after the revision was read: asked for by id.
      const people = await Person.find({ _id: { $in: unknown } }, { userId: 1 }).lean();
      for (const p of people) known.set(p._id, p.userId ?? null);
    }
    return personIds.flatMap((id): Candidate[] => {
      const userId = known.get(id);
      return userId !== undefined ? [{ personId: id, userId, unitId: unitOf(id) }] : [];
    });
  }

  /**
   * The requester as a candidate, keyed by their sign-in account: a resident's account (their
   * person record's id when they have one, else `user:<account id>`, so the task never names
   * them), or a person who started the case (a quick report) when they have an account. The
   * candidate's unit is the case's: a resident holds no post. Ids only, as every candidate.
   */
  async function requesterCandidate(
    requester: { kind: 'user' | 'person'; id: string },
    caseUnitId: string | null,
  ): Promise<ResolvedPeople> {
    const none: ResolvedPeople = { people: [], unitId: null, unitName: null, fellBack: false };
    const unitId = caseUnitId ?? '';
    if (requester.kind === 'person') {
      const person = await Person.findById(requester.id, { userId: 1 }).lean();
      if (!person?.userId) return { ...none, requester: 'no-account' };
      const account = await User.findById(person.userId, { disabled: 1 }).lean();
      if (!account) return { ...none, requester: 'no-account' };
      if (account.disabled) return { ...none, requester: 'account-disabled' };
      return {
        ...none,
        people: [{ personId: requester.id, userId: person.userId, unitId }],
        requester: 'reached',
      };
    }
    const account = await User.findById(requester.id, { disabled: 1 }).lean();
    if (!account) return { ...none, requester: 'no-account' };
    if (account.disabled) return { ...none, requester: 'account-disabled' };
    const person = await Person.findOne({ userId: requester.id }, { _id: 1 }).lean();
    return {
      ...none,
      people: [{ personId: person?._id ?? `user:${requester.id}`, userId: requester.id, unitId }],
      requester: 'reached',
    };
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
      if ('requester' in request) return requesterCandidate(request.requester, request.caseUnitId);
      const { selector } = request;
      const instant = request.at !== undefined ? Date.parse(request.at) : null;
      if ('onDuty' in selector) {
        // New syntax: only cases that send `at` have it; the worker's clock is a safe stand-by.
        const { availability, rotas } = await availabilityOf();
        const years = await CalendarYear.find({}).lean();
        const selected = selectOnDuty(
          tree,
          availability,
          (unitId) => rotas.get(unitId) ?? null,
          workingCalendarOf(years, deps.workingWindows),
          selector,
          request,
          instant ?? deps.clock().getTime(),
        );
        return resolvedOf(selected, selected.rostered ? {} : { offDuty: true });
      }
      if ('unit' in selector && typeof selector.unit === 'object' && 'catalogue' in selector.unit) {
        const catalogue = await coveringCatalogue(tree, request.caseUnitId);
        const selected = selectByCatalogue(tree, selector.role, selector.unit, request, catalogue);
        if (instant !== null) {
          const { availability } = await availabilityOf();
          const replaced = replaceAbsent(
            availability,
            selected.people.map((p) => ({ ...p, role: selector.role })),
            instant,
          );
          return resolvedOf(
            { ...replaced, unit: selected.unit, fellBack: selected.fellBack },
            { catalogue: selected.routing },
          );
        }
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
      if (instant !== null) {
        const { availability } = await availabilityOf();
        // Pairings count on the day of the moment of selection (China time).
        const atDay = { ...request, today: chinaDayOf(new Date(instant)) };
        return resolvedOf(
          selectAvailablePeople(tree, availability, selector as OrgSelector, atDay, instant),
        );
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

    /**
     * 未诉先办: the requests of `definitions` received in [from, to) at the case's unit or below
     * (the whole tree for a case without a unit), grouped by category and place (the unit of
     * `place`'s type at or above each request's unit), the groups of at least `threshold`
     * (common/recurrence.ts). One indexed read ({unitId, createdAt}: an `$in` over the subtree's
     * units and a range of receipt), projected to what grouping needs, at most
     * MAX_RECURRENCE_CASES + 1 documents: past the bound it answers `refused: 'cases'` with
     * nothing grouped; more than `maxGroups` groups answers `refused: 'groups'` with their number
     * only (the workflow's history never carries groups it will not open). Grouped here, in memory, not by `$group` (FerretDB v1 keeps only the first
     * accumulator). Cancelled requests (撤销) are not counted. Reads only, so a retry is harmless.
     */
    async findRecurrences(request: {
      caseUnitId: string | null;
      definitions: readonly string[];
      from: string;
      to: string;
      place: UnitType;
      threshold: number;
      maxGroups: number;
    }): Promise<{
      read: number;
      refused: 'cases' | 'groups' | null;
      /** How many groups reached the threshold (all of them, also when refused). */
      found: number;
      groups: Array<RecurrenceGroup & { placeName: string }>;
      uncategorised: number;
      unplaced: number;
    }> {
      const tree = await orgTree();
      const filter: Record<string, unknown> = {
        createdAt: { $gte: new Date(request.from), $lt: new Date(request.to) },
        definitionKey: { $in: [...request.definitions] },
        status: { $ne: 'cancelled' },
      };
      if (request.caseUnitId !== null) {
        const units = tree.has(request.caseUnitId)
          ? tree.descendants(request.caseUnitId).map((u) => u.id)
          : [request.caseUnitId];
        filter.unitId = { $in: units.sort() };
      }
      const docs = await Case.find(filter, {
        _id: 1,
        unitId: 1,
        category: 1,
        'data.category': 1,
        createdAt: 1,
      })
        .sort({ createdAt: -1, _id: 1 })
        .limit(MAX_RECURRENCE_CASES + 1)
        .lean();
      if (docs.length > MAX_RECURRENCE_CASES) {
        return {
          read: docs.length,
          refused: 'cases',
          found: 0,
          groups: [],
          uncategorised: 0,
          unplaced: 0,
        };
      }
      const places = new Map<string, string | null>();
      const placeOfUnit = (unitId: string | null | undefined): string | null => {
        if (!unitId || !tree.has(unitId)) return null;
        if (!places.has(unitId)) places.set(unitId, placeOf(tree.ancestry(unitId), request.place));
        return places.get(unitId)!;
      };
      const cases: RecurrenceCase[] = docs.map((doc) => {
        // The definition's category code (a process with `categories`), else its input field
        // `category` (hotline-12345, grid-event: the category by name, as the catalogue has it).
        const field = (doc as { data?: { category?: unknown } | null }).data?.category;
        const category =
          typeof doc.category === 'string' && doc.category !== ''
            ? doc.category
            : typeof field === 'string'
              ? field
              : null;
        return {
          caseId: doc._id,
          category,
          placeId: placeOfUnit(doc.unitId),
          receivedAt: doc.createdAt.toISOString(),
        };
      });
      const grouping = recurringGroups(cases, request.threshold);
      const tooMany = grouping.groups.length > request.maxGroups;
      return {
        read: docs.length,
        refused: tooMany ? 'groups' : null,
        found: grouping.groups.length,
        groups: tooMany
          ? []
          : grouping.groups.map((g) => ({ ...g, placeName: tree.unit(g.placeId).name })),
        uncategorised: grouping.uncategorised,
        unplaced: grouping.unplaced,
      };
    },

    /** Absolute instants of a deadline on today's working calendar (see common/sla.ts). */
    async planDeadline(request: {
      policy: DeadlinePolicy;
      startedAt: string;
      pauses: ClockPause[];
      /**
       * The unit the step runs for: working time counts in its hours (its own or the nearest
       * unit's above it). Absent (cases recorded before `unit-working-hours`): office hours.
       */
      unitId?: string | null;
    }): Promise<DeadlinePlan> {
      const years = await CalendarYear.find({}).lean();
      const hours = request.unitId ? await workingHoursOf(request.unitId) : null;
      const calendar = hours
        ? workingCalendarOf(years, windowsInMinutes(hours.windows), { everyDay: hours.everyDay })
        : workingCalendarOf(years, deps.workingWindows);
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
