import type { CaseMetrics } from '../common/case';
import type { MetricField } from '../common/case-measures';
import { METRIC_FIELDS } from '../common/case-measures';
import type { UnitType } from '../lang/vocabulary';
import { unitsAtOrBelow } from '../common/org-tree';
import type { Models } from '../models';
import type { Principal } from './auth';
import { isSupervisorRole } from '../common/roles';
import { AppError } from './errors';
import type { ScopeResolver } from './scope';
import type { DirectoryUnit, UnitDirectory, UnitDirectoryReader } from './unit-directory';
import { createUnitDirectory } from './unit-directory';
import type { Period, PeriodInput } from './periods';
import { resolvePeriod } from './periods';

/**
 * Metrics per unit (with everything below it) and period, and rankings of units: what the
 * dashboards and the half-year 评议 read. Every case carries its own figures as numbers
 * (common/case-measures.ts), so one `$match` + `$group`/`$sum` per request adds them up on the
 * database, MongoDB or FerretDB alike; the roll-up along the org tree happens here, over the org
 * snapshot (the unit tree as of the org revision). A case counts for the unit it was filed for,
 * in the period it was received; with `attribution: 'served'` it counts for the unit(s) that
 * served it instead (`servedBy`, common/case-served.ts): a co-building unit, a department or a
 * property company is measured on what it served, wherever the case was filed. A case served by
 * two units counts for each of them (and once in a total: the total matches the cases, not units).
 */

/** `place`: the unit the case was filed for (the default); `served`: the unit(s) that served it. */
export const ATTRIBUTIONS = ['place', 'served'] as const;
export type Attribution = (typeof ATTRIBUTIONS)[number];

export interface MetricsQuery extends PeriodInput {
  unitId?: string;
  /** One process or several (a list, or keys separated by commas): cases of any of them. */
  definitionKey?: string | readonly string[];
  category?: string;
  attribution?: Attribution;
}

/** The process keys a query names: commas split, blanks and repeats dropped, in order. */
export function definitionKeysOf(value: string | readonly string[] | undefined): string[] {
  const list = value === undefined ? [] : typeof value === 'string' ? [value] : value;
  return [
    ...new Set(
      list
        .flatMap((k) => k.split(','))
        .map((k) => k.trim())
        .filter((k) => k !== ''),
    ),
  ];
}

/** The filters a report applies, as it states them. */
export interface AppliedFilters {
  /** The process keys, comma-separated, or null for every process. */
  definitionKey: string | null;
  definitionKeys: string[];
  category: string | null;
  attribution: Attribution;
}

function filtersOf(query: MetricsQuery): AppliedFilters {
  const keys = definitionKeysOf(query.definitionKey);
  return {
    definitionKey: keys.length > 0 ? keys.join(',') : null,
    definitionKeys: keys,
    category: query.category ?? null,
    attribution: query.attribution ?? 'place',
  };
}

export const RANKING_KEYS = [
  'completionRate',
  'onTimeRate',
  'responseRate',
  'acceptanceRate',
  'satisfactionRate',
  'resolutionRate',
  'participationRate',
  'visitRate',
  'disputeResolutionRate',
  'supervisionRate',
  'returnRate',
  'averageScore',
  'received',
] as const;
export type RankingKey = (typeof RANKING_KEYS)[number];

export interface RankingQuery extends MetricsQuery {
  /** Rank the units of this type below `unitId` (default: `unitId`'s children). */
  unitType?: UnitType;
  by?: RankingKey;
}

/** The counts a report shows, summed from each case's flags (meanings in common/case-measures.ts). */
type Counts = Pick<
  CaseMetrics,
  | 'received'
  | 'dispatched'
  | 'accepted'
  | 'respondedInTime'
  | 'completed'
  | 'completedOnTime'
  | 'resolved'
  | 'explained'
  | 'excluded'
  | 'due'
  | 'rejected'
  | 'overdue'
  | 'escalated'
  | 'escalations'
  | 'returned'
  | 'returnedCase'
  | 'ratingInvited'
  | 'arbitrated'
  | 'rated'
  | 'satisfied'
  | 'ratingMissing'
  | 'disputesFound'
  | 'disputesResolved'
>;

export interface Figures extends Counts {
  /**
   * Shares, 0–1 with 4 decimals; null when nothing to divide by. Excluded cases (不予受理) are in
   * no numerator or denominator (their flags are zero). docs/definition-language.md section 3.5
   * gives each formula with the practice it follows.
   */
  rates: {
    /** 接单率: accepted ÷ dispatched. */
    acceptanceRate: number | null;
    /** 响应率: accepted before the acceptance deadline passed ÷ dispatched. */
    responseRate: number | null;
    /** 办结率: completed (resolved or explained) ÷ due. */
    completionRate: number | null;
    /** 解决率: resolved ÷ due. */
    resolutionRate: number | null;
    /** 按期办结率: completed before the 办结时限 passed ÷ completed. */
    onTimeRate: number | null;
    /** 满意率 (满意度): rated 4–5 ÷ rated. */
    satisfactionRate: number | null;
    /** 参评率: rated ÷ asked to rate. */
    participationRate: number | null;
    /** 回访率: rated (回访 done, by the requester or on their behalf) ÷ completed. */
    visitRate: number | null;
    /** 化解率: disputes resolved ÷ disputes found (dispute processes). */
    disputeResolutionRate: number | null;
    /** 督办率: escalated ÷ dispatched. */
    supervisionRate: number | null;
    /** 退单率: cases with a task sent back ÷ dispatched. */
    returnRate: number | null;
    /** 逾期率: overdue ÷ received and not excluded. */
    overdueRate: number | null;
  };
  averages: {
    /** Mean score of the rated cases (1–5). */
    score: number | null;
    /** Mean minutes from receipt to acceptance, over the accepted. */
    responseMinutes: number | null;
    /** Mean minutes from receipt to completion, over the completed. */
    handlingMinutes: number | null;
  };
}

export interface UnitRef {
  id: string;
  name: string;
  type: string;
}

export interface UnitMetrics {
  unit: UnitRef;
  period: Period;
  filters: AppliedFilters;
  totals: Figures;
  /** Each child unit with everything below it. */
  children: Array<{ unit: UnitRef } & Figures>;
  /** Received and completed per month of the period (Beijing time). */
  months: Array<{ month: string; received: number; completed: number; overdue: number }>;
  computedAt: string;
}

export interface Ranking {
  unit: UnitRef;
  period: Period;
  by: RankingKey;
  unitType: string | null;
  filters: AppliedFilters;
  items: Array<{ rank: number | null; unit: UnitRef } & Figures>;
}

export interface PeopleQuery extends PeriodInput {
  unitId?: string;
  definitionKey?: string | readonly string[];
  category?: string;
}

/** Figures per person who served cases (their acceptance step's holder) in a unit's subtree. */
export interface PeopleMetrics {
  unit: UnitRef;
  period: Period;
  filters: AppliedFilters;
  /** Whether names are shown (supervisors: admins and dispatchers); otherwise ids only. */
  named: boolean;
  /** Most cases served first. */
  people: Array<{ person: { id: string; name: string | null } } & Figures>;
}

/** How many units the red list (红榜) and the black list (黑榜) of a bulletin name each (chosen). */
export const BULLETIN_LIST_SIZE = 3;

export interface BulletinQuery extends Omit<RankingQuery, 'period' | 'from' | 'to'> {
  /** The Beijing calendar month, `2026-11`. */
  month: string;
}

/**
 * The monthly bulletin (月通报) of a unit: its totals for the cases received in the month, the
 * ranking of the units below it, and the red and black lists drawn from that ranking. It is
 * computed from the cases' stored figures, so a past month's bulletin reads the same again
 * (figures of cases still running then may have moved on since: they count as they stand).
 */
export interface Bulletin {
  unit: UnitRef;
  month: string;
  period: Period;
  by: RankingKey;
  unitType: string | null;
  filters: AppliedFilters;
  totals: Figures;
  ranking: Ranking['items'];
  /** The best ranked units, best first (at most {@link BULLETIN_LIST_SIZE}). */
  redList: Ranking['items'];
  /** The worst ranked units, worst first (never one of the red list). */
  blackList: Ranking['items'];
  listSize: number;
  computedAt: string;
}

export interface MetricsService {
  unitMetrics(principal: Principal, query: MetricsQuery): Promise<UnitMetrics>;
  ranking(principal: Principal, query: RankingQuery): Promise<Ranking>;
  people(principal: Principal, query: PeopleQuery): Promise<PeopleMetrics>;
  bulletin(principal: Principal, query: BulletinQuery): Promise<Bulletin>;
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The red and black lists of a ranking: top and bottom of the ranked units, never overlapping. */
export function redAndBlack<T extends { rank: number | null }>(
  items: readonly T[],
  size: number = BULLETIN_LIST_SIZE,
): { redList: T[]; blackList: T[] } {
  const ranked = items.filter((item) => item.rank !== null);
  const red = Math.min(size, Math.ceil(ranked.length / 2));
  const black = Math.min(size, ranked.length - red);
  return {
    redList: ranked.slice(0, red),
    blackList: ranked.slice(ranked.length - black).reverse(),
  };
}

type Sums = Record<MetricField, number>;

type TreeUnit = DirectoryUnit;
type UnitTree = UnitDirectory;

function emptySums(): Sums {
  return Object.fromEntries(METRIC_FIELDS.map((f) => [f, 0])) as Sums;
}

function addInto(target: Sums, source: Sums): void {
  for (const field of METRIC_FIELDS) target[field] += source[field];
}

function share(part: number, whole: number): number | null {
  return whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null;
}

function mean(sum: number, count: number): number | null {
  return count > 0 ? Math.round((sum / count) * 100) / 100 : null;
}

/** Counts, shares and means from the summed flags. */
export function figuresOf(s: Sums): Figures {
  return {
    received: s.received,
    dispatched: s.dispatched,
    accepted: s.accepted,
    respondedInTime: s.respondedInTime,
    completed: s.completed,
    completedOnTime: s.completedOnTime,
    resolved: s.resolved,
    explained: s.explained,
    excluded: s.excluded,
    due: s.due,
    rejected: s.rejected,
    overdue: s.overdue,
    escalated: s.escalated,
    escalations: s.escalations,
    returned: s.returned,
    returnedCase: s.returnedCase,
    ratingInvited: s.ratingInvited,
    arbitrated: s.arbitrated,
    rated: s.rated,
    satisfied: s.satisfied,
    ratingMissing: s.ratingMissing,
    disputesFound: s.disputesFound,
    disputesResolved: s.disputesResolved,
    rates: {
      acceptanceRate: share(s.accepted, s.dispatched),
      responseRate: share(s.respondedInTime, s.dispatched),
      completionRate: share(s.completed, s.due),
      resolutionRate: share(s.resolved, s.due),
      onTimeRate: share(s.completedOnTime, s.completed),
      satisfactionRate: share(s.satisfied, s.rated),
      participationRate: share(s.rated, s.ratingInvited),
      visitRate: share(s.rated, s.completed),
      disputeResolutionRate: share(s.disputesResolved, s.disputesFound),
      supervisionRate: share(s.escalated, s.dispatched),
      returnRate: share(s.returnedCase, s.dispatched),
      overdueRate: share(s.overdue, s.received - s.excluded),
    },
    averages: {
      score: mean(s.ratingScore, s.rated),
      responseMinutes: mean(s.responseMinutes, s.accepted),
      handlingMinutes: mean(s.handlingMinutes, s.completed),
    },
  };
}

/** Rates where fewer is better (督办率, 退单率): ranked lowest first. */
const LOWER_IS_BETTER: ReadonlySet<RankingKey> = new Set(['supervisionRate', 'returnRate']);

/** The value a ranking sorts by, highest first (negated where fewer is better). */
function rankValue(figures: Figures, by: RankingKey): number | null {
  if (by === 'received') return figures.received;
  if (by === 'averageScore') return figures.averages.score;
  const rate = figures.rates[by];
  return rate !== null && LOWER_IS_BETTER.has(by) ? -rate : rate;
}

export function createMetricsService(deps: {
  models: Pick<Models, 'Case' | 'Unit' | 'OrgRevision' | 'Person' | 'Post'>;
  scope: ScopeResolver;
  clock: () => Date;
  /** The unit tree as of the org revision (the org snapshot, shared with board and points). */
  units?: UnitDirectoryReader;
}): MetricsService {
  const { Case } = deps.models;
  const units = deps.units ?? createUnitDirectory({ models: deps.models, clock: deps.clock });

  /** The unit asked for (or the caller's own top unit), checked against the caller's scope. */
  async function focusUnit(principal: Principal, unitId: string | undefined): Promise<TreeUnit> {
    const scope = await deps.scope.resolve(principal);
    const tree = await units.knowing(unitId);
    let id = unitId;
    if (id === undefined) {
      const own = scope.all ? tree.roots : principal.unitIds.filter((u) => tree.byId.has(u));
      // The highest of the caller's units: the one the others are below, if any.
      id = own.find(
        (candidate) => !own.some((o) => o !== candidate && isBelow(tree, candidate, o)),
      );
      if (id === undefined) {
        throw new AppError('invalid_request', 'Name the unit: unitId is required for you', [
          { path: 'query.unitId', message: 'required (your account has no unit)' },
        ]);
      }
    }
    const unit = tree.byId.get(id);
    // A unit outside the caller's scope does not exist for it (as with cases and tasks).
    if (!unit || (!scope.all && !scope.unitIds.has(id))) {
      throw new AppError('not_found', `No unit ${id} in your scope`);
    }
    return unit;
  }

  /**
   * One flag summed per group key. One accumulator per `$group` on purpose: FerretDB v1 computes
   * only the first accumulator of a `$group` and answers 0 for the others (FerretDB issue 4616),
   * so several in one stage would be right on MongoDB and silently wrong here. The queries run
   * side by side over the same match.
   */
  async function sumPer(
    match: Record<string, unknown>,
    key: GroupKey,
    field: MetricField,
  ): Promise<Map<string, number>> {
    const rows = await Case.aggregate<{ _id: string | null; total: unknown }>([
      { $match: match },
      { $group: { _id: key, total: { $sum: `$metrics.${field}` } } },
    ]);
    const totals = new Map<string, number>();
    for (const row of rows) {
      const value = Number(row.total);
      if (typeof row._id === 'string' && Number.isFinite(value)) totals.set(row._id, value);
    }
    return totals;
  }

  /** Flags summed per unit (or per person who served), over the period and filters. */
  async function sumsByUnit(
    unitIds: readonly string[],
    period: Period,
    query: MetricsQuery,
    key: GroupKey = query.attribution === 'served' ? '$servedBy.unitIds' : '$unitId',
  ): Promise<Map<string, Sums>> {
    const match = matchOf(unitIds, period, query);
    if (key === '$servedBy.unitIds') return servedSums(match, 'unitIds', new Set(unitIds));
    if (key === '$servedBy.personIds') return servedSums(match, 'personIds', null);
    const columns = await Promise.all(METRIC_FIELDS.map((field) => sumPer(match, key, field)));
    const byUnit = new Map<string, Sums>();
    METRIC_FIELDS.forEach((field, i) => {
      for (const [unitId, total] of columns[i]!) {
        const sums = byUnit.get(unitId) ?? emptySums();
        sums[field] = total;
        byUnit.set(unitId, sums);
      }
    });
    return byUnit;
  }

  async function months(unitIds: readonly string[], period: Period, query: MetricsQuery) {
    const match = matchOf(unitIds, period, query);
    const [received, completed, overdue] = await Promise.all(
      (['received', 'completed', 'overdue'] as const).map((f) =>
        sumPer(match, '$metrics.month', f),
      ),
    );
    return [...received!.keys()]
      .filter((month) => month !== '')
      .sort()
      .map((month) => ({
        month,
        received: received!.get(month) ?? 0,
        completed: completed!.get(month) ?? 0,
        overdue: overdue!.get(month) ?? 0,
      }));
  }

  /**
   * Flags summed per serving unit or person. A case's `servedBy` is a list, and FerretDB v1 answers
   * nothing for a `$group` after an `$unwind` of a nested array (found with this test data), so
   * the matching cases' figures are read in pages and added up here: one pass, bounded memory (a
   * page of cases and one sum per key), right on both engines.
   */
  async function servedSums(
    match: Record<string, unknown>,
    list: 'unitIds' | 'personIds',
    keep: ReadonlySet<string> | null,
  ): Promise<Map<string, Sums>> {
    const byKey = new Map<string, Sums>();
    const cursor = Case.find(match, { servedBy: 1, metrics: 1 })
      .lean<Array<{ servedBy?: { unitIds?: unknown; personIds?: unknown }; metrics?: unknown }>>()
      .cursor({ batchSize: SERVED_PAGE });
    for await (const doc of cursor) {
      const ids = doc.servedBy?.[list];
      if (!Array.isArray(ids) || doc.metrics === null || typeof doc.metrics !== 'object') continue;
      const figures = doc.metrics as Record<string, unknown>;
      for (const id of new Set(ids.filter((v): v is string => typeof v === 'string'))) {
        if (keep !== null && !keep.has(id)) continue;
        const sums = byKey.get(id) ?? emptySums();
        for (const field of METRIC_FIELDS) {
          const value = Number(figures[field] ?? 0);
          if (Number.isFinite(value)) sums[field] += value;
        }
        byKey.set(id, sums);
      }
    }
    return byKey;
  }

  /** Every flag summed over the matching cases, once each (a served total counts a case once). */
  async function sumsOf(unitIds: readonly string[], period: Period, query: MetricsQuery) {
    const match = matchOf(unitIds, period, query);
    const columns = await Promise.all(
      METRIC_FIELDS.map((field) => sumPer(match, '$definitionKey', field)),
    );
    const total = emptySums();
    METRIC_FIELDS.forEach((field, i) => {
      for (const value of columns[i]!.values()) total[field] += value;
    });
    return total;
  }

  function rollUp(tree: UnitTree, rootId: string, sums: Map<string, Sums>): Sums {
    const total = emptySums();
    for (const id of unitsAtOrBelow(tree.children, [rootId])) {
      const own = sums.get(id);
      if (own) addInto(total, own);
    }
    return total;
  }

  const refOf = (unit: TreeUnit): UnitRef => ({ id: unit.id, name: unit.name, type: unit.type });

  const service: MetricsService = {
    async unitMetrics(principal, query) {
      const period = resolvePeriod(query, deps.clock());
      const unit = await focusUnit(principal, query.unitId);
      const tree = await units.get();
      const subtree = [...unitsAtOrBelow(tree.children, [unit.id])];
      const served = query.attribution === 'served';
      const [sums, byMonth, servedTotal] = await Promise.all([
        sumsByUnit(subtree, period, query),
        months(subtree, period, query),
        served ? sumsOf(subtree, period, query) : null,
      ]);
      const children = (tree.children.get(unit.id) ?? [])
        .map((id) => tree.byId.get(id)!)
        .sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'))
        .map((child) => ({ unit: refOf(child), ...figuresOf(rollUp(tree, child.id, sums)) }));
      return {
        unit: refOf(unit),
        period,
        filters: filtersOf(query),
        totals: figuresOf(servedTotal ?? rollUp(tree, unit.id, sums)),
        children,
        months: byMonth,
        computedAt: deps.clock().toISOString(),
      };
    },

    async ranking(principal, query) {
      const period = resolvePeriod(query, deps.clock());
      const unit = await focusUnit(principal, query.unitId);
      const tree = await units.get();
      const by = query.by ?? 'completionRate';
      const subtree = [...unitsAtOrBelow(tree.children, [unit.id])];
      const ranked = query.unitType
        ? subtree.filter((id) => id !== unit.id && tree.byId.get(id)?.type === query.unitType)
        : (tree.children.get(unit.id) ?? []);
      const sums = await sumsByUnit(subtree, period, query);
      const rows = ranked.map((id) => {
        const member = tree.byId.get(id)!;
        return { unit: refOf(member), ...figuresOf(rollUp(tree, id, sums)) };
      });
      // Highest first; units with nothing to measure go last, unranked; ties share a rank.
      rows.sort((a, b) => {
        const va = rankValue(a, by);
        const vb = rankValue(b, by);
        if (va === null || vb === null) return va === vb ? 0 : va === null ? 1 : -1;
        return (
          vb - va || b.received - a.received || a.unit.name.localeCompare(b.unit.name, 'zh-CN')
        );
      });
      let previous: number | null = null;
      let rank = 0;
      const items = rows.map((row, index) => {
        const value = rankValue(row, by);
        if (value === null) return { rank: null, ...row };
        if (value !== previous) rank = index + 1;
        previous = value;
        return { rank, ...row };
      });
      return {
        unit: refOf(unit),
        period,
        by,
        unitType: query.unitType ?? null,
        filters: filtersOf(query),
        items,
      };
    },

    async people(principal, query) {
      const period = resolvePeriod(query, deps.clock());
      const unit = await focusUnit(principal, query.unitId);
      const tree = await units.get();
      const subtree = [...unitsAtOrBelow(tree.children, [unit.id])];
      const served = { ...query, attribution: 'served' as const };
      const sums = await sumsByUnit(subtree, period, served, '$servedBy.personIds');
      // Only people who hold a post in the subtree: a co-server from elsewhere is not this
      // reader's to see (scope), even on a case the subtree served.
      const ids = [...sums.keys()].sort();
      const posts = await deps.models.Post.find(
        { personId: { $in: ids }, unitId: { $in: subtree } },
        { personId: 1 },
      ).lean();
      const inScope = new Set(posts.map((p) => p.personId));
      const named = isSupervisorRole(principal.roles);
      const names = new Map<string, string>();
      if (named && inScope.size > 0) {
        const people = await deps.models.Person.find(
          { _id: { $in: [...inScope].sort() } },
          { name: 1 },
        ).lean();
        for (const p of people) names.set(p._id, p.name);
      }
      const rows = ids
        .filter((id) => inScope.has(id))
        .map((id) => ({
          person: { id, name: named ? (names.get(id) ?? null) : null },
          ...figuresOf(sums.get(id)!),
        }))
        .sort((a, b) => b.received - a.received || a.person.id.localeCompare(b.person.id));
      return { unit: refOf(unit), period, filters: filtersOf(served), named, people: rows };
    },

    async bulletin(principal, query) {
      if (!MONTH.test(query.month)) {
        throw new AppError('invalid_request', 'month must be a calendar month such as 2026-11', [
          { path: 'query.month', message: 'a month, YYYY-MM' },
        ]);
      }
      const { month, ...rest } = query;
      const [report, ranking] = await Promise.all([
        service.unitMetrics(principal, { ...rest, period: month }),
        service.ranking(principal, { ...rest, period: month }),
      ]);
      return {
        unit: report.unit,
        month,
        period: report.period,
        by: ranking.by,
        unitType: ranking.unitType,
        filters: report.filters,
        totals: report.totals,
        ranking: ranking.items,
        ...redAndBlack(ranking.items),
        listSize: BULLETIN_LIST_SIZE,
        computedAt: report.computedAt,
      };
    },
  };
  return service;
}

type GroupKey =
  '$unitId' | '$metrics.month' | '$definitionKey' | '$servedBy.unitIds' | '$servedBy.personIds';

/** Cases read per page when figures are summed per serving unit or person (chosen). */
const SERVED_PAGE = 1_000;

function matchOf(unitIds: readonly string[], period: Period, query: MetricsQuery) {
  const keys = definitionKeysOf(query.definitionKey);
  const unitField = query.attribution === 'served' ? 'servedBy.unitIds' : 'unitId';
  return {
    [unitField]: { $in: [...unitIds] },
    createdAt: { $gte: new Date(period.from), $lt: new Date(period.to) },
    metrics: { $ne: null },
    ...(keys.length === 1 ? { definitionKey: keys[0] } : {}),
    ...(keys.length > 1 ? { definitionKey: { $in: keys } } : {}),
    ...(query.category !== undefined ? { category: query.category } : {}),
  };
}

function isBelow(tree: UnitTree, id: string, ancestor: string): boolean {
  const seen = new Set<string>();
  for (let at = tree.byId.get(id)?.parentId ?? null; at !== null;) {
    if (at === ancestor) return true;
    if (seen.has(at)) return false;
    seen.add(at);
    at = tree.byId.get(at)?.parentId ?? null;
  }
  return false;
}
