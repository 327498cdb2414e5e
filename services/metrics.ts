import type { CaseMetrics } from '../common/case';
import { QUICK_REPORT_CHANNEL } from './quick-reports';
import type { MetricField } from '../common/case-measures';
import { beijingMonth, METRIC_FIELDS } from '../common/case-measures';
import type { RollupBy, TreeKind } from '../common/metric-rollup';
import {
  depthOf,
  FOLD_SEQ,
  HALF_KIND_OF,
  halfOf,
  parentsFromJson,
  parseRollupPart,
  TREE_KIND_OF,
  TREE_MARK,
  treeAgrees,
  treeRollupIdOf,
  treeHalfRollupIdOf,
  servingUnitsOf,
  splitMonthPart,
  sumsOf as rollupSums,
  unpackRollupParts,
} from '../common/metric-rollup';
import { BEIJING_OFFSET_MS } from '../lang/beijing';
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
 * (common/case-measures.ts), and the projection adds them into roll-ups per unit, month, process
 * and category (activities/metric-rollups.ts); a request reads the few roll-ups of its units and
 * whole months (and the changes not folded into them yet), so it costs the same at 200,000 cases
 * as at 200; only the partial months at the ends of a from/to period are read from the cases. The
 * roll-up along the org tree happens here, over the org snapshot (the unit tree as of the org
 * revision). A case counts for the unit it was filed for, in the period it was received; with
 * `attribution: 'served'` it counts for the unit(s) that served it instead (`servedBy`,
 * common/case-served.ts, rolled up per serving unit too): a co-building unit, a department or a
 * property company is measured on what it served, wherever the case was filed. A case served by
 * two units counts for each of them (and once in a total: the total matches the cases, not units,
 * read from the roll-ups of the sets of serving units). The figures per person are read from the
 * cases.
 * docs/metrics-at-scale.md.
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

/** The channel of the cases a `recurrence` step opens (workflows/steps/recurrence.ts). */
export const PROACTIVE_CHANNEL = 'proactive';

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
  /**
   * 未诉先办: the proactive cases (channel `proactive`, opened by a `recurrence` step) of the unit
   * and below, opened in the period and closed (办结) in it.
   */
  proactive: { opened: number; closed: number };
  /**
   * 随手报: the cases mobile grid members reported (channel `quick-report`) in the unit and below,
   * received in the period and closed (办结) in it.
   */
  quickReports: { received: number; closed: number };
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
  models: Pick<
    Models,
    | 'Case'
    | 'Unit'
    | 'OrgRevision'
    | 'Person'
    | 'Post'
    | 'MetricRollup'
    | 'MetricRollupChange'
    | 'MetricRollupMark'
  >;
  scope: ScopeResolver;
  clock: () => Date;
  /** The unit tree as of the org revision (the org snapshot, shared with board and points). */
  units?: UnitDirectoryReader;
  /**
   * False: read the subtree documents of the months only, never the period documents (what the
   * version before them read; bench:dashboard times both on one store). Default true.
   */
  periodDocuments?: boolean;
}): MetricsService {
  const { Case, MetricRollup, MetricRollupChange, MetricRollupMark } = deps.models;
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
   * The cases of a subtree that came in by one channel (未诉先办 `proactive`, 随手报
   * `quick-report`), opened and closed in the period: two counts, by the case list's
   * {unitId, createdAt} index and by {channel, closedAt} (models/index.ts). Not in the roll-ups:
   * they count the cases by where they were filed, not how they came in.
   */
  async function channelCases(
    channel: string,
    subtree: readonly string[],
    period: Period,
  ): Promise<{ opened: number; closed: number }> {
    const unitId = { $in: [...subtree].sort() };
    const span = { $gte: new Date(period.from), $lt: new Date(period.to) };
    const [opened, closed] = await Promise.all([
      Case.countDocuments({ unitId, createdAt: span, channel }),
      Case.countDocuments({ channel, closedAt: span, status: 'closed', unitId }),
    ]);
    return { opened, closed };
  }

  // Once the roll-ups are complete they stay so (the projection keeps them): asked until then.
  let complete = false;
  async function rollupsComplete(): Promise<boolean> {
    if (!complete) complete = (await MetricRollupMark.exists({ _id: 'complete' })) !== null;
    return complete;
  }
  const inFlight = new Map<string, Promise<UnitSums>>();

  /**
   * The figures of each unit of `wanted` with everything below it, over the period and filters
   * (and per month of the trend for `trendUnit`), in one pass: the roll-ups of the whole Beijing
   * months inside the period, plus, for a from/to period that starts or ends inside a month, the
   * cases of those partial months read once (activities/metric-rollups.ts,
   * docs/metrics-at-scale.md). `place` counts a case for the unit it was filed for; `served` for
   * each unit that served it (a case served by two units of a subtree counts twice there, as a
   * served view's children always did); `servedSet` once for each subtree that one of its serving
   * units is in (the served total). The roll-ups read are the subtree documents of the wanted
   * units (one per unit and month, written by the folder along the unit tree) while the `tree`
   * mark says they follow this reader's tree; otherwise every unit's own documents, rolled up
   * here along the tree.
   */
  function subtreeSums(
    by: RollupBy,
    wanted: readonly string[],
    trendUnit: string | null,
    period: Period,
    query: MetricsQuery,
    tree: UnitTree,
  ): Promise<UnitSums> {
    // Concurrent identical reads share one query (nothing is kept once it settles): the bulletin
    // asks for the metrics of a unit and the ranking of its children at once, which read the
    // same documents (see ranking).
    const key = JSON.stringify([
      by,
      wanted,
      trendUnit,
      tree.revision,
      period.from,
      period.to,
      definitionKeysOf(query.definitionKey),
      query.category ?? null,
    ]);
    const running = inFlight.get(key);
    if (running) return running;
    const reading = readSubtreeSums(by, wanted, trendUnit, period, query, tree).finally(() =>
      inFlight.delete(key),
    );
    inFlight.set(key, reading);
    return reading;
  }

  /** The folder's batch counter (activities/metric-rollups.ts): see {@link readRollups}. */
  async function foldSeq(): Promise<FoldSeq> {
    const mark = (await MetricRollupMark.collection.findOne(
      { _id: FOLD_SEQ as never },
      { projection: { seq: 1, running: 1 } },
    )) as { seq?: number; running?: string | null } | null;
    return { seq: mark?.seq ?? 0, running: mark?.running ?? null };
  }

  /**
   * The `tree` mark's verdict: `false` when the subtree documents may not be read along `tree`,
   * else whether the period documents may be read too (`halves`: they hold every case only once a
   * rebuild, or a store's first fold, wrote the mark with it; a store upgraded from a version
   * without them has subtree documents of the month only until `npm run rebuild-rollups`).
   */
  async function subtreeDocumentsAgree(tree: UnitTree): Promise<false | { halves: boolean }> {
    const mark = (await MetricRollupMark.collection.findOne(
      { _id: TREE_MARK as never },
      { projection: { parentsJson: 1, stale: 1, halves: 1 } },
    )) as { parentsJson?: unknown; stale?: unknown; halves?: unknown } | null;
    if (mark === null || mark.stale === true) return false;
    const current = new Map([...tree.byId.values()].map((u) => [u.id, u.parentId]));
    if (!treeAgrees(parentsFromJson(mark.parentsJson), current)) return false;
    return { halves: mark.halves === true };
  }

  /**
   * The roll-ups of some filters and the changes not folded yet of others (each filter an
   * equality FerretDB v1 pushes down, see {@link rollupFilters}; the rows of all of them, each
   * once). The folder counts its batches in the `fold-seq` mark (activities/metric-rollups.ts):
   * read it, the roll-ups, the changes, and it again (two `_id` reads); if no batch started or ran
   * in between, every change read is in no roll-up read (`folded` answers false). Otherwise read
   * the roll-ups' `lastFold` again too: if none moved, a change whose batch is a document's
   * `lastFold` is in that document already (`folded(document, batch)`); if one moved, read again.
   */
  async function readRollups(
    rollupQueries: ReadonlyArray<Record<string, unknown>>,
    changeQueries: ReadonlyArray<Record<string, unknown>>,
    /** The `fold-seq` mark read already (before anything else of this read), if so. */
    seqRead?: Promise<FoldSeq>,
  ) {
    const foldsOf = (rows: Array<{ _id: unknown; lastFold?: string | null }>) =>
      new Map(rows.map((r) => [String(r._id), r.lastFold ?? null]));
    // The changes not folded yet are few and usually none (the folder takes them every 5 s):
    // one `{by}` equality per kind says whether the per-month queries are worth asking. Absent
    // there, none of them would have answered anything either (the same moment of the read).
    const kinds = [...new Set(changeQueries.map((f) => String(f.by)))].sort();
    const readChanges = async () => {
      const any = await Promise.all(
        kinds.map((by) =>
          MetricRollupChange.collection.findOne({ by }, { projection: { _id: 1 } }),
        ),
      );
      if (any.every((found) => found === null)) return [];
      return (await readEach(changeQueries, (filter) =>
        MetricRollupChange.find(filter, {
          rollupId: 1,
          unitId: 1,
          unitIds: 1,
          month: 1,
          part: 1,
          delta: 1,
          batch: 1,
        }).lean(),
      )) as ChangeRow[];
    };
    const readRollupRows = () =>
      readEach(
        rollupQueries,
        (filter) =>
          MetricRollup.find(filter, {
            unitId: 1,
            unitIds: 1,
            month: 1,
            half: 1,
            parts: 1,
            partsJson: 1,
            lastFold: 1,
          }).lean() as Promise<RollupRow[]>,
      );
    for (let attempt = 1; ; attempt += 1) {
      const seqBefore = attempt === 1 && seqRead ? await seqRead : await foldSeq();
      // The roll-ups before the changes, never side by side: a change read unfolded and folded
      // before the roll-ups were read would count twice (the check below relies on the order).
      const rollups = await readRollupRows();
      const changes = await readChanges();
      const seqAfter = await foldSeq();
      if (seqBefore.running === null && seqAfter.seq === seqBefore.seq) {
        return { rollups, changes, folded: () => false };
      }
      const after = foldsOf(await readRollupRows());
      const before = foldsOf(rollups);
      const settled =
        before.size === after.size && [...after].every(([id, fold]) => before.get(id) === fold);
      // Chosen: a fold touches a document for milliseconds a minute; three tries, then the last.
      if (settled || attempt >= 3) {
        return {
          rollups,
          changes,
          folded: (rollupId: string, batch: string | null) =>
            batch !== null && before.get(rollupId) === batch,
        };
      }
    }
  }

  async function readSubtreeSums(
    by: RollupBy,
    wanted: readonly string[],
    trendUnit: string | null,
    period: Period,
    query: MetricsQuery,
    tree: UnitTree,
  ): Promise<UnitSums> {
    const byUnit = new Map<string, Sums>();
    const byMonth = new Map<string, Sums>();
    const subtreeOf = new Map(
      wanted.map((w) => [w, new Set(unitsAtOrBelow(tree.children, [w]))] as const),
    );
    const everyUnit = [...new Set(wanted.flatMap((w) => [...subtreeOf.get(w)!]))].sort();
    /** The wanted units a row of these units counts for (one unit; a set of serving units). */
    const countedFor = (units: readonly string[]) =>
      wanted.filter((w) => units.some((u) => subtreeOf.get(w)!.has(u)));
    const add = (unitId: string, month: string, figures: Sums) => {
      const sums = byUnit.get(unitId) ?? emptySums();
      addInto(sums, figures);
      byUnit.set(unitId, sums);
      if (unitId === trendUnit && month !== '') {
        const perMonth = byMonth.get(month) ?? emptySums();
        addInto(perMonth, figures);
        byMonth.set(month, perMonth);
      }
    };
    const from = Date.parse(period.from);
    const to = Date.parse(period.to);
    // Until the roll-ups of an upgraded store are backfilled (activities/metric-rollups.ts), the
    // whole period is read from the cases: right figures at the old cost, never zeros.
    const { months, edges } = (await rollupsComplete())
      ? splitPeriod(from, to)
      : { months: [], edges: [[from, to] as [number, number]] };
    const keys = new Set(definitionKeysOf(query.definitionKey));
    // A county's half year holds some 27,000 entries of a few dozen distinct parts: parsed once.
    const parsed = new Map<string, ReturnType<typeof parseRollupPart> | null>();
    const wantedPart = (part: string, month: string) => {
      const slot = `${month}#${part}`;
      let key = parsed.get(slot);
      if (key === undefined) {
        key = parseRollupPart(part, month);
        if (keys.size > 0 && !keys.has(key.definitionKey)) key = null;
        else if (query.category !== undefined && key.category !== query.category) key = null;
        parsed.set(slot, key);
      }
      return key;
    };
    const unitsOfRow = (row: { unitId?: unknown; unitIds?: unknown }): string[] =>
      by === 'servedSet'
        ? Array.isArray(row.unitIds)
          ? row.unitIds.filter((u): u is string => typeof u === 'string')
          : []
        : typeof row.unitId === 'string'
          ? [row.unitId]
          : [];
    const changeQueries = rollupFilters(by, everyUnit, months);
    const kind = TREE_KIND_OF[by];
    // `perUnit`: the second time round, once the tree mark has turned while the first read ran:
    // the per-unit documents, whatever the mark says.
    const asked = new Set(months);
    const readMonths = async (perUnit = false): Promise<void> => {
      // The tree mark and the fold counter side by side (two `_id` reads; the counter only has
      // to be read before the roll-ups).
      const seqRead = foldSeq();
      seqRead.catch(() => undefined); // awaited (and its failure thrown) in readRollups
      const verdict = perUnit ? false : await subtreeDocumentsAgree(tree);
      const fromSubtrees = verdict !== false;
      // Along the tree, a half year the period asks three months or more of is read from the
      // units' period documents (one each), the other months from their own documents.
      const halves =
        verdict !== false && verdict.halves && deps.periodDocuments !== false
          ? halvesReadWhole(months)
          : new Set<string>();
      const { rollups, changes, folded } = await readRollups(
        fromSubtrees
          ? [
              ...subtreeFilters(
                kind,
                wanted,
                months.filter((m) => !halves.has(halfOf(m))),
                tree,
              ),
              ...subtreeFilters(kind, wanted, [...halves].sort(), tree, 'half'),
            ]
          : rollupFilters(by, everyUnit, months),
        changeQueries,
        seqRead,
      );
      // A unit moved while this read ran: the subtree documents read may not follow the tree
      // (nothing read has been added yet).
      if (fromSubtrees && (await subtreeDocumentsAgree(tree)) === false) return readMonths(true);
      const wantedSet = new Set(wanted);
      for (const row of rollups) {
        const targets = fromSubtrees
          ? typeof row.unitId === 'string' && wantedSet.has(row.unitId)
            ? [row.unitId]
            : []
          : countedFor(unitsOfRow(row));
        if (targets.length === 0) continue;
        const ofHalf = typeof row.half === 'string';
        for (const [entry, stored] of Object.entries(unpackRollupParts(row))) {
          // A period document's entry is `<month>|<part>`; only the months asked count.
          const slot = ofHalf ? splitMonthPart(entry) : { month: row.month ?? '', part: entry };
          if (slot === null || (ofHalf && !asked.has(slot.month))) continue;
          const key = wantedPart(slot.part, slot.month);
          if (!key) continue;
          const figures = sumsFrom(stored);
          for (const w of targets) add(w, key.trendMonth, figures);
        }
      }
      for (const change of changes) {
        const key = wantedPart(change.part, change.month);
        if (!key) continue;
        const figures = sumsFrom(change.delta as Record<string, unknown>);
        const half = halfOf(change.month);
        for (const w of countedFor(unitsOfRow(change))) {
          // Left out where the document it counts in was read with it folded in already.
          const into = !fromSubtrees
            ? change.rollupId
            : halves.has(half)
              ? treeHalfRollupIdOf(kind, w, half)
              : treeRollupIdOf(kind, w, change.month);
          if (!folded(into, change.batch)) add(w, key.trendMonth, figures);
        }
      }
    };
    await Promise.all([
      months.length > 0 ? readMonths() : null,
      ...edges.map(async ([edgeFrom, edgeTo]) => {
        const match = matchOf(
          by === 'place' ? 'place' : 'served',
          everyUnit,
          edgeFrom,
          edgeTo,
          query,
        );
        const cursor = Case.find(match, { unitId: 1, servedBy: 1, metrics: 1 })
          .lean<CaseFigures[]>()
          .cursor({ batchSize: CASE_PAGE });
        for await (const doc of cursor) {
          const metrics = (doc.metrics ?? {}) as Record<string, unknown>;
          const month = typeof metrics.month === 'string' ? metrics.month : '';
          const figures = sumsFrom(metrics);
          if (by === 'place') {
            if (typeof doc.unitId !== 'string') continue;
            for (const w of countedFor([doc.unitId])) add(w, month, figures);
          } else if (by === 'served') {
            for (const id of servingUnitsOf(doc)) {
              for (const w of countedFor([id])) add(w, month, figures);
            }
          } else {
            for (const w of countedFor(servingUnitsOf(doc))) add(w, month, figures);
          }
        }
      }),
    ]);
    return { byUnit, months: trendOf(byMonth) };
  }

  /**
   * Flags summed per person who served, over the period and filters. A case's `servedBy` is a
   * list, and FerretDB v1 answers nothing for a `$group` after an `$unwind` of a nested array, so
   * the matching cases' figures are read in pages and added up here: one pass, bounded memory (a
   * page of cases and one sum per person). Not rolled up (docs/metrics-at-scale.md).
   */
  async function sumsByPerson(
    unitIds: readonly string[],
    period: Period,
    query: MetricsQuery,
  ): Promise<Map<string, Sums>> {
    const byKey = new Map<string, Sums>();
    const match = matchOf('served', unitIds, Date.parse(period.from), Date.parse(period.to), query);
    const cursor = Case.find(match, { servedBy: 1, metrics: 1 })
      .lean<CaseFigures[]>()
      .cursor({ batchSize: CASE_PAGE });
    for await (const doc of cursor) {
      const ids = doc.servedBy?.personIds;
      if (!Array.isArray(ids) || doc.metrics === null || typeof doc.metrics !== 'object') continue;
      const figures = sumsFrom(doc.metrics as Record<string, unknown>);
      for (const id of new Set(ids.filter((v): v is string => typeof v === 'string'))) {
        const sums = byKey.get(id) ?? emptySums();
        addInto(sums, figures);
        byKey.set(id, sums);
      }
    }
    return byKey;
  }

  const refOf = (unit: TreeUnit): UnitRef => ({ id: unit.id, name: unit.name, type: unit.type });

  const service: MetricsService = {
    async unitMetrics(principal, query) {
      const period = resolvePeriod(query, deps.clock());
      const unit = await focusUnit(principal, query.unitId);
      const tree = await units.get();
      const subtree = [...unitsAtOrBelow(tree.children, [unit.id])];
      const childIds = tree.children.get(unit.id) ?? [];
      const by: RollupBy = query.attribution === 'served' ? 'served' : 'place';
      // By place: the unit's and its children's subtree figures, and the unit's trend, in one
      // read. By who served, the children per serving unit, and the total and the trend from the
      // sets of serving units (a case counts once however many units of the subtree served it).
      const [{ byUnit: sums, months: byMonth }, servedSets, proactive, quick] = await Promise.all([
        by === 'place'
          ? subtreeSums('place', [unit.id, ...childIds], unit.id, period, query, tree)
          : subtreeSums('served', childIds, null, period, query, tree),
        by === 'served' ? subtreeSums('servedSet', [unit.id], unit.id, period, query, tree) : null,
        channelCases(PROACTIVE_CHANNEL, subtree, period),
        channelCases(QUICK_REPORT_CHANNEL, subtree, period),
      ]);
      const totals = (servedSets ?? { byUnit: sums }).byUnit.get(unit.id) ?? emptySums();
      const children = childIds
        .map((id) => tree.byId.get(id)!)
        .sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'))
        .map((child) => ({
          unit: refOf(child),
          ...figuresOf(sums.get(child.id) ?? emptySums()),
        }));
      return {
        unit: refOf(unit),
        period,
        filters: filtersOf(query),
        totals: figuresOf(totals),
        children,
        months: servedSets?.months ?? byMonth,
        proactive,
        quickReports: { received: quick.opened, closed: quick.closed },
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
      const countedBy: RollupBy = query.attribution === 'served' ? 'served' : 'place';
      // The children ranked by place read what the unit's metrics read (the unit and its
      // children, its trend): asked at once (the bulletin), one read serves both.
      const { byUnit: sums } =
        !query.unitType && countedBy === 'place'
          ? await subtreeSums('place', [unit.id, ...ranked], unit.id, period, query, tree)
          : await subtreeSums(countedBy, ranked, null, period, query, tree);
      const rows = ranked.map((id) => {
        const member = tree.byId.get(id)!;
        return { unit: refOf(member), ...figuresOf(sums.get(id) ?? emptySums()) };
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
      const sums = await sumsByPerson(subtree, period, served);
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

/**
 * Above this many units × months, a roll-up read asks one query per month instead of one per unit
 * and month (chosen: a community's half year, 5 units × 6 months, reads 30 small answers; a
 * county's, 329 units, 6 answers of a few hundred documents each).
 */
const PER_UNIT_READS = 48;

/** Roll-up and change queries in flight at once for one read (chosen: the store's 2 cores). */
const READS_IN_FLIGHT = 4;

/**
 * The queries that read the roll-ups (and unfolded changes) of `by` for some units and months,
 * each with equalities only where FerretDB v1 should find the rows: it pushes a top-level scalar
 * or array-element equality down to PostgreSQL (served by the GIN twins of the `{by, month,
 * unitId}` and `{by, month, unitIds}` indexes, stack/postgres.ts), and nothing under `$in`, so
 * the one query `{by, month: {$in}, unitId: {$in}}` read every roll-up of its kind, all months
 * of all units (docs/metrics-at-scale.md). A small subtree asks `{by, month, unitId}` per unit
 * and month; a large one `{by, month}` per month, with the units as an `$in` FerretDB applies to
 * that month's rows only. A set of serving units (`servedSet`) is found through each of its
 * units (`unitIds` equality): the same set can come back from two units, so rows are kept once.
 */
export function rollupFilters(
  by: RollupBy,
  unitIds: readonly string[],
  months: readonly string[],
): Array<Record<string, unknown>> {
  const field = by === 'servedSet' ? 'unitIds' : 'unitId';
  const units = [...unitIds].sort();
  if (units.length * months.length <= PER_UNIT_READS) {
    return months.flatMap((month) => units.map((unitId) => ({ by, month, [field]: unitId })));
  }
  return months.map((month) => ({ by, month, [field]: { $in: units } }));
}

/**
 * Up to this many queries, the subtree documents of some units are read per parent (or per
 * depth) and month rather than per month (chosen: a county's view is 6 months × its one parent
 * and itself; a ranking of its communities 6 months × one depth).
 */
const PER_LEVEL_READS = 24;

/**
 * The queries that read the subtree documents of `kind` (common/metric-rollup.ts TREE_KINDS) of
 * some units and months, or, with `per: 'half'`, its period documents (HALF_KIND_OF: one per unit
 * and half year) of some half years, each an equality FerretDB v1 pushes down: per unit and
 * period by `_id` when they are few ({@link PER_UNIT_READS}: a street and its communities for
 * half a year); else per parent and period (`parentId`, the GIN twin of the `{by, month,
 * parentId}` index: the children of a unit, what a view asks for; the units without a parent by
 * `_id`) or per depth and period (`depth`: one level of the tree, what a ranking by unit type asks
 * for; it may return units of that level elsewhere in the org), whichever takes fewer queries
 * (per parent when as few); else per period. Rows of units not asked for are dropped by the reader.
 */
export function subtreeFilters(
  kind: TreeKind,
  unitIds: readonly string[],
  periods: readonly string[],
  tree: Pick<UnitTree, 'byId'>,
  per: 'month' | 'half' = 'month',
): Array<Record<string, unknown>> {
  const units = [...unitIds].sort();
  const by = per === 'half' ? HALF_KIND_OF[kind] : kind;
  const byId = (unitId: string, period: string) => ({
    _id:
      per === 'half'
        ? treeHalfRollupIdOf(kind, unitId, period)
        : treeRollupIdOf(kind, unitId, period),
  });
  if (units.length * periods.length <= PER_UNIT_READS) {
    return periods.flatMap((period) => units.map((unitId) => byId(unitId, period)));
  }
  const parents = new Map([...tree.byId.values()].map((u) => [u.id, u.parentId]));
  const parentOf = (unitId: string) => {
    const parentId = tree.byId.get(unitId)?.parentId ?? null;
    // A parent the tree does not know makes a root (common/metric-rollup.ts pathOf).
    return parentId !== null && tree.byId.has(parentId) ? parentId : null;
  };
  const above = [...new Set(units.map(parentOf).filter((p): p is string => p !== null))].sort();
  const roots = units.filter((u) => parentOf(u) === null);
  const depths = [...new Set(units.map((u) => depthOf(u, parents)))].sort();
  const perParent = (above.length + roots.length) * periods.length;
  const perDepth = depths.length * periods.length;
  if (perParent <= PER_LEVEL_READS && perParent <= perDepth) {
    return periods.flatMap((period) => [
      ...above.map((parentId) => ({ by, [per]: period, parentId })),
      ...roots.map((unitId) => byId(unitId, period)),
    ]);
  }
  if (perDepth <= PER_LEVEL_READS) {
    return periods.flatMap((period) => depths.map((depth) => ({ by, [per]: period, depth })));
  }
  return periods.map((period) => ({ by, [per]: period, unitId: { $in: units } }));
}

/**
 * A half year is read from its period documents (one per unit) when the period asks at least
 * this many of its months, else from the documents of the months (chosen, measured on the
 * 20,000-case bench store: a six-month document of a community reads in about 2.2 times the time
 * of a month's, bench/rollup-reads.ts; a quarter or more of a half year then reads faster whole).
 */
const HALF_DOCUMENT_MONTHS = 3;

/** The half years whose months a read takes from their period documents (see above). */
export function halvesReadWhole(months: readonly string[]): Set<string> {
  const count = new Map<string, number>();
  for (const month of months) count.set(halfOf(month), (count.get(halfOf(month)) ?? 0) + 1);
  return new Set([...count].filter(([, n]) => n >= HALF_DOCUMENT_MONTHS).map(([half]) => half));
}

/** A roll-up document as the metrics read it. */
interface RollupRow {
  _id: unknown;
  unitId?: string | null;
  unitIds?: unknown;
  /** A roll-up document's month; a period document has its `half` instead. */
  month?: string;
  half?: string;
  parts?: unknown;
  partsJson?: string;
  lastFold?: string | null;
}

/** An unfolded change as the metrics read it. */
interface ChangeRow {
  _id: unknown;
  rollupId: string;
  unitId: string | null;
  unitIds?: unknown;
  month: string;
  part: string;
  delta: unknown;
  batch: string | null;
}

/** Runs `read` for each filter, {@link READS_IN_FLIGHT} at a time; each row (by `_id`) once. */
async function readEach<T extends { _id: unknown }>(
  filters: ReadonlyArray<Record<string, unknown>>,
  read: (filter: Record<string, unknown>) => Promise<T[]>,
): Promise<T[]> {
  const rows = new Map<string, T>();
  let next = 0;
  const lane = async () => {
    while (next < filters.length) {
      const filter = filters[next]!;
      next += 1;
      for (const row of await read(filter)) rows.set(String(row._id), row);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READS_IN_FLIGHT, filters.length) }, lane));
  return [...rows.values()];
}

/** Cases read per page where figures are summed from the cases (chosen). */
const CASE_PAGE = 1_000;

type CaseFigures = {
  unitId?: string | null;
  servedBy?: { unitIds?: unknown; personIds?: unknown } | null;
  metrics?: unknown;
};

/** The `fold-seq` mark as a read sees it. */
interface FoldSeq {
  seq: number;
  running: string | null;
}

interface UnitSums {
  byUnit: Map<string, Sums>;
  /** Received, completed and overdue per trend month (not meaningful counted per serving unit). */
  months: UnitMetrics['months'];
}

/** Numbers of stored figures (a missing or non-numeric field counts as 0). */
const sumsFrom = (stored: Record<string, unknown> | null | undefined): Sums => rollupSums(stored);

function trendOf(byMonth: ReadonlyMap<string, Sums>): UnitMetrics['months'] {
  return [...byMonth.entries()]
    .filter(([, sums]) => sums.received > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([month, sums]) => ({
      month,
      received: sums.received,
      completed: sums.completed,
      overdue: sums.overdue,
    }));
}

/** The cases of `[from, to)` a report counts: by the unit filed for, or by the units that served. */
function matchOf(
  by: 'place' | 'served',
  unitIds: readonly string[],
  from: number,
  to: number,
  query: MetricsQuery,
) {
  const keys = definitionKeysOf(query.definitionKey);
  const unitField = by === 'served' ? 'servedBy.unitIds' : 'unitId';
  return {
    [unitField]: { $in: [...unitIds].sort() },
    createdAt: { $gte: new Date(from), $lt: new Date(to) },
    metrics: { $ne: null },
    ...(keys.length === 1 ? { definitionKey: keys[0] } : {}),
    ...(keys.length > 1 ? { definitionKey: { $in: keys } } : {}),
    ...(query.category !== undefined ? { category: query.category } : {}),
  };
}

/**
 * A period as the whole Beijing months inside it (served by the roll-ups) and the partial months
 * at its ends (`[from, to)` instants, served by the cases).
 */
export function splitPeriod(
  from: number,
  to: number,
): { months: string[]; edges: Array<[number, number]> } {
  const startOf = (instant: number) => {
    const b = new Date(instant + BEIJING_OFFSET_MS);
    return Date.UTC(b.getUTCFullYear(), b.getUTCMonth(), 1) - BEIJING_OFFSET_MS;
  };
  const next = (monthStart: number) => {
    const b = new Date(monthStart + BEIJING_OFFSET_MS);
    return Date.UTC(b.getUTCFullYear(), b.getUTCMonth() + 1, 1) - BEIJING_OFFSET_MS;
  };
  const first = startOf(from) === from ? from : next(startOf(from));
  const months: string[] = [];
  let at = first;
  while (next(at) <= to) {
    months.push(beijingMonth(at));
    at = next(at);
  }
  if (months.length === 0) return { months, edges: [[from, to]] };
  const edges: Array<[number, number]> = [];
  if (from < first) edges.push([from, first]);
  if (at < to) edges.push([at, to]);
  return { months, edges };
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
