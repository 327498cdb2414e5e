import type { mongo } from 'mongoose';
import type { StoredPointsEntry } from './points-ledger';

/**
 * The 双报到 side of the points ledger (积分台账) for a unit's subtree: what members of units
 * outside it earned serving in it, by member and by their own unit. One read and one sum shared
 * by the API's per-unit report (services/points.ts `unitReport`, `served`) and the `lookup` step's
 * `dual-report-members` source (activities/lookups-dual-report.ts), so both count the same.
 */

/** The most ledger entries one report adds up (chosen); a larger one asks for a shorter period. */
export const MAX_REPORT_ENTRIES = 50_000;

/**
 * Up to this many units are read one equality query each (`{ unitId, kind }`, the two filters
 * FerretDB v1 pushes down); a larger subtree (a street's, a county's) is one `$in` query, as the
 * metrics reads do (docs/metrics-at-scale.md, chosen there: 48). A community's subtree is a
 * handful of grids and compounds.
 */
export const MAX_UNITS_READ_ONE_BY_ONE = 48;

/** Queries in flight for the one-by-one reads (chosen, as the metrics reads: 4). */
const READS_IN_FLIGHT = 4;

/** The fields of an entry a report reads. */
export type LedgerRow = Pick<
  StoredPointsEntry,
  'personId' | 'kind' | 'delta' | 'unitId' | 'communityId' | 'homeUnitIds'
>;

export const LEDGER_ROW_PROJECTION = {
  personId: 1,
  kind: 1,
  delta: 1,
  unitId: 1,
  communityId: 1,
  homeUnitIds: 1,
} as const;

/** What a bounded read found: the rows, or that there were more than it reads. */
export type BoundedRows = { tooMany: false; rows: LedgerRow[] } | { tooMany: true };

/**
 * The earnings (`kind: earn`) written for the units `unitIds` at or after `from` and before
 * `to`, at most MAX_REPORT_ENTRIES of them. The period is applied by the store after the
 * equalities (FerretDB v1 pushes down no range).
 */
export async function earningsIn(
  collection: mongo.Collection<StoredPointsEntry>,
  unitIds: readonly string[],
  period: { from: Date; to: Date },
): Promise<BoundedRows> {
  const at = { $gte: period.from, $lt: period.to };
  const read = (filter: Record<string, unknown>, limit: number) =>
    collection
      .find(filter, { projection: LEDGER_ROW_PROJECTION })
      .limit(limit)
      .toArray() as Promise<LedgerRow[]>;
  if (unitIds.length > MAX_UNITS_READ_ONE_BY_ONE) {
    const rows = await read(
      { kind: 'earn', unitId: { $in: [...unitIds] }, at },
      MAX_REPORT_ENTRIES + 1,
    );
    return rows.length > MAX_REPORT_ENTRIES ? { tooMany: true } : { tooMany: false, rows };
  }
  const rows: LedgerRow[] = [];
  let tooMany = false;
  const queue = [...unitIds];
  const worker = async () => {
    for (let unitId = queue.shift(); unitId !== undefined && !tooMany; unitId = queue.shift()) {
      const found = await read({ unitId, kind: 'earn', at }, MAX_REPORT_ENTRIES + 1);
      rows.push(...found);
      if (rows.length > MAX_REPORT_ENTRIES) tooMany = true;
    }
  };
  await Promise.all(Array.from({ length: READS_IN_FLIGHT }, worker));
  return tooMany ? { tooMany: true } : { tooMany: false, rows };
}

/** A member of a unit outside the subtree who earned points in it (双报到 serving here). */
export interface OutsideMember {
  personId: string;
  /** Their own units (outside the subtree) as the entries recorded them, sorted. */
  homeUnitIds: string[];
  earned: number;
  /** How many earnings: each a task or service done here (参加社区工作的次数). */
  services: number;
}

export interface ServedFigures {
  /** Points earned in the subtree by anybody. */
  earned: number;
  /** Of those, by members of units outside the subtree. */
  earnedByOutsideMembers: number;
  /** By the members' own units, most points first (then by id). */
  byHomeUnit: Array<{ unitId: string; earned: number; people: number }>;
  /** Most points first (then by id). */
  members: OutsideMember[];
}

/**
 * Sums earnings in a subtree: all of them, and those of people whose own units all lie outside
 * it (an entry with no own unit, or one inside the subtree, is a resident's or a local member's).
 */
export function servedFiguresOf(
  earnings: Iterable<LedgerRow>,
  subtree: ReadonlySet<string>,
): ServedFigures {
  let earned = 0;
  let outsideEarned = 0;
  const members = new Map<string, { home: Set<string>; earned: number; services: number }>();
  const byHome = new Map<string, { earned: number; people: Set<string> }>();
  for (const e of earnings) {
    if (e.kind !== 'earn') continue;
    earned += e.delta;
    const home = e.homeUnitIds ?? [];
    if (home.length === 0 || home.some((h) => subtree.has(h))) continue;
    outsideEarned += e.delta;
    const member = members.get(e.personId) ?? { home: new Set<string>(), earned: 0, services: 0 };
    members.set(e.personId, member);
    member.earned += e.delta;
    member.services += 1;
    for (const h of home) {
      member.home.add(h);
      const row = byHome.get(h) ?? { earned: 0, people: new Set<string>() };
      byHome.set(h, row);
      row.earned += e.delta;
      row.people.add(e.personId);
    }
  }
  const byPointsThenId = <T extends { earned: number }>(a: [string, T], b: [string, T]) =>
    b[1].earned - a[1].earned || a[0].localeCompare(b[0]);
  return {
    earned,
    earnedByOutsideMembers: outsideEarned,
    byHomeUnit: [...byHome.entries()].sort(byPointsThenId).map(([unitId, row]) => ({
      unitId,
      earned: row.earned,
      people: row.people.size,
    })),
    members: [...members.entries()].sort(byPointsThenId).map(([personId, m]) => ({
      personId,
      homeUnitIds: [...m.home].sort(),
      earned: m.earned,
      services: m.services,
    })),
  };
}
