import { unitsAtOrBelow } from '../common/org-tree';
import type { Models } from '../models';
import type { Principal } from './auth';
import { AppError } from './errors';
import type { OrgSnapshot, OrgSnapshotReader } from '../common/org-snapshot';
import { createOrgSnapshot } from '../common/org-snapshot';

/**
 * Org scope, in one place: which cases (and tasks) a principal may see and act on. Admins see
 * everything. Dispatchers and staff see the items of their units and of every unit below them
 * (a street's dispatcher sees a case filed in one of its communities). Everyone sees the items
 * they own themselves (a resident follows their own requests, a system its own submissions).
 *
 * A service resolves the scope once per request with {@link ScopeResolver.resolve}, then asks
 * {@link canSee} about one item or queries with {@link scopeFilter}; both apply the same rule.
 */
export interface OrgScope {
  /** Every item (admins). */
  readonly all: boolean;
  /** The principal: items it owns are always in scope. */
  readonly principalId: string;
  /** The principal's units and every unit below them; empty for residents and systems. */
  readonly unitIds: ReadonlySet<string>;
}

/**
 * Where an item keeps what scope looks at. Cases: `unitId` and `createdBy.id` (the defaults).
 * A tasks collection might use `{ ownerFields: ['createdBy.id', 'candidates'] }`: an owner field
 * may hold one principal id or an array of them, as MongoDB matches either.
 */
export interface ScopeFields {
  /** Dotted path of the item's unit id (default `unitId`). */
  unitField?: string;
  /** Dotted paths of principal ids that own the item (default `['createdBy.id']`). */
  ownerFields?: readonly OwnerField[];
}

/**
 * A dotted path of principal ids that own the item, or one that owns it only while the item
 * matches one of `when` (each a set of fields equal to strings): a claim pool's candidates own it
 * while it is open, `{ path: 'candidateUserIds', when: [{ kind: 'task' }, { status: 'open' }] }`.
 */
export type OwnerField = string | { path: string; when: ReadonlyArray<Record<string, string>> };

/** Each owner field as the item conditions under which it owns (one empty condition: always). */
function ownerBranches(fields: ScopeFields): Array<{ path: string; when: Record<string, string> }> {
  return (fields.ownerFields ?? DEFAULT_OWNER_FIELDS).flatMap((field) =>
    typeof field === 'string'
      ? [{ path: field, when: {} }]
      : field.when.map((when) => ({ path: field.path, when })),
  );
}

const DEFAULT_UNIT_FIELD = 'unitId';
const DEFAULT_OWNER_FIELDS = ['createdBy.id'] as const;

/** Roles that see their units' items; the others see only what they own. */
function seesUnitItems(principal: Principal): boolean {
  return principal.roles.includes('dispatcher') || principal.roles.includes('staff');
}

/**
 * The scope of a principal over a unit tree given as its children (see `childrenByParent`). Pure;
 * a unit id the tree does not know still counts as itself.
 */
export function expandScope(
  principal: Principal,
  children: ReadonlyMap<string, readonly string[]>,
): OrgScope {
  if (principal.roles.includes('admin')) {
    return { all: true, principalId: principal.id, unitIds: new Set() };
  }
  return {
    all: false,
    principalId: principal.id,
    unitIds: seesUnitItems(principal) ? unitsAtOrBelow(children, principal.unitIds) : new Set(),
  };
}

/** Whether an item is in scope; the same rule as {@link scopeFilter}. */
export function canSee(scope: OrgScope, item: object, fields: ScopeFields = {}): boolean {
  if (scope.all) return true;
  const owns = ownerBranches(fields).some(
    ({ path, when }) =>
      holds(valueAt(item, path), scope.principalId) &&
      Object.entries(when).every(([field, wanted]) => holds(valueAt(item, field), wanted)),
  );
  if (owns) return true;
  const unitId = valueAt(item, fields.unitField ?? DEFAULT_UNIT_FIELD);
  return typeof unitId === 'string' && scope.unitIds.has(unitId);
}

/**
 * Whether the principal is, or was, a rater a feedback step of this case names (`from`, docs 6.8):
 * a community's resident representative asked to rate a case filed by someone else. That lets
 * them read this one case as a rater sees it (services/cases.ts `getCase`), outside their scope;
 * it widens nothing else: no list shows them the case, and no other case, task or mail.
 */
export function isNamedRater(
  principal: Principal,
  kase: { raterUserIds?: readonly string[] | null; raterReaderUserIds?: readonly string[] | null },
): boolean {
  return (
    (kase.raterUserIds ?? []).includes(principal.id) ||
    (kase.raterReaderUserIds ?? []).includes(principal.id)
  );
}

/** The rule of {@link canSee} as a MongoDB filter, to combine with a list query's own filter. */
export function scopeFilter(scope: OrgScope, fields: ScopeFields = {}): Record<string, unknown> {
  if (scope.all) return {};
  const branches: Array<Record<string, unknown>> = ownerBranches(fields).map(({ path, when }) => ({
    [path]: scope.principalId,
    ...when,
  }));
  if (scope.unitIds.size > 0) {
    branches.push({ [fields.unitField ?? DEFAULT_UNIT_FIELD]: { $in: [...scope.unitIds].sort() } });
  }
  return branches.length === 1 ? branches[0]! : { $or: branches };
}

/**
 * A list query's own filter within a scope filter (both must hold): every field at the top level
 * where only one of them names it, and an `$and` only of what both name. FerretDB v1 hands the
 * store the top-level equality fields of a filter and nothing under an `$and` or `$or`, so
 * `$and: [own, scope]` read every row of the collection; this way the own filter's equalities
 * (`status`, `candidateUserIds`, `caseId`…) are served by an index. MongoDB reads both alike.
 */
export function withinScope(
  own: Record<string, unknown>,
  scope: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...own };
  const both: Array<Record<string, unknown>> = [];
  for (const [key, value] of Object.entries(scope)) {
    if (key in merged) both.push({ [key]: value });
    else merged[key] = value;
  }
  if (both.length === 0) return merged;
  return { ...merged, $and: [...((merged.$and as unknown[] | undefined) ?? []), ...both] };
}

/**
 * Whether a principal may file an item for a unit: admins, residents and systems for any unit
 * (they say where a problem is), dispatchers and staff for the units in their scope.
 */
export function mayActForUnit(principal: Principal, scope: OrgScope, unitId: string): boolean {
  if (scope.all) return true;
  if (principal.roles.includes('resident') || principal.roles.includes('system')) return true;
  return scope.unitIds.has(unitId);
}

export interface ScopeResolver {
  /** The principal's scope; reads the unit tree only for dispatchers and staff with units. */
  resolve(principal: Principal): Promise<OrgScope>;
  /** The ids among `unitIds` that no unit has (over the same org snapshot). */
  unknownUnits(unitIds: readonly string[]): Promise<string[]>;
  /** The org snapshot scopes are computed from, for other readers of the unit tree. */
  units(): Promise<OrgSnapshot>;
  /** Forgets the kept tree. Org writes bump the org revision, which is enough; kept for tests. */
  invalidate(): void;
}

/**
 * Resolves scopes over the org snapshot (org-snapshot.ts): the unit tree as of the current org
 * revision, which every org write, in any process, bumps. One `_id` read per request; the units
 * are read again only after an org write, so a new or moved unit is in scope on the next request.
 * Given no snapshot, it builds one over `models`.
 */
/**
 * The filter value for a list's unit parameter: the unit itself, or with `subtree` the unit and
 * every unit below it; 400 for an unknown unit or `subtree` without a unit. Undefined when no unit
 * is asked for. The scope filter still applies on top (a unit above the scope only narrows it).
 */
export async function unitFilterOf(
  query: { unitId?: string; subtree?: boolean },
  units: () => Promise<OrgSnapshot>,
): Promise<string | { $in: string[] } | undefined> {
  if (query.subtree && query.unitId === undefined) {
    throw new AppError('invalid_request', 'subtree needs a unitId', [
      { path: 'query.subtree', message: 'only with unitId' },
    ]);
  }
  if (query.unitId === undefined) return undefined;
  // The unit tree is read only when a unit is asked for.
  const tree = await units();
  if (!tree.byId.has(query.unitId)) {
    throw new AppError('invalid_request', `No unit "${query.unitId}"`, [
      { path: 'query.unitId', message: 'unknown unit' },
    ]);
  }
  return query.subtree
    ? { $in: [...unitsAtOrBelow(tree.children, [query.unitId])].sort() }
    : query.unitId;
}

export function createScopeResolver(
  models: Pick<Models, 'Unit' | 'OrgRevision'>,
  options: { snapshot?: OrgSnapshotReader; revision?: () => Promise<number> } = {},
): ScopeResolver {
  const snapshot =
    options.snapshot ??
    createOrgSnapshot({ models, ...(options.revision ? { revision: options.revision } : {}) });

  return {
    async resolve(principal) {
      const needsTree =
        !principal.roles.includes('admin') &&
        seesUnitItems(principal) &&
        principal.unitIds.length > 0;
      return expandScope(principal, needsTree ? (await snapshot.get()).children : new Map());
    },
    async unknownUnits(unitIds) {
      if (unitIds.length === 0) return [];
      const tree = await snapshot.get();
      return unitIds.filter((id) => !tree.byId.has(id));
    },
    units: () => snapshot.get(),
    invalidate() {
      snapshot.invalidate();
    },
  };
}

function valueAt(item: object, path: string): unknown {
  let value: unknown = item;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** MongoDB's equality: a field equals a value, or is an array that contains it. */
function holds(value: unknown, wanted: string): boolean {
  return Array.isArray(value) ? value.includes(wanted) : value === wanted;
}
