import type { ActingPrincipal, Candidate } from './case';
import type { Cell } from './csv';
import { toCsv } from './csv';

/**
 * Evaluation rounds (评单评议, Xunyi "一单一打分、半年一评议"): the shapes that cross the API ↔
 * workflow ↔ activity boundaries, and the pure arithmetic of a round's results (weights per
 * scorer group, roll-up along the org tree, per responsible secretary) and of its CSV export.
 * Types and pure functions only, so the workflow may import it.
 */

/** The Update a scorer's scores arrive by (see workflows/steps/evaluation.ts). */
export const EVALUATION_SCORE_UPDATE = 'scoreEvaluation';

/** Scores are whole numbers on this scale, per criterion. */
export const SCORE_MIN = 1;
export const SCORE_MAX = 5;

/**
 * The most orders one round scores; more is refused, not cut short (the round would look complete).
 * Chosen: 5,000 (a street's half year is up to about 3,000 orders). Scores no longer pass through
 * the round's history (docs/definition-language.md 6.12), so this bounds the open activity and
 * the reads of one round, not Temporal's 2,000 Updates per execution.
 */
export const MAX_ROUND_ITEMS = 5000;

/**
 * Rounds whose scores the API writes (`scoresVia: 'api'`): the longest a score request may take
 * from the API's check that the round is open to the end of its writes, counted at the latest
 * from `closesAt`. A request whose writes end after `closesAt` + this undoes them and answers 503
 * (Retry-After): it may have raced the close. Chosen:
 * 10 s, far above a healthy store's milliseconds per single-document write, and the
 * TEMPORAL_CALL_TIMEOUT_MS default the Update path had.
 */
export const SCORE_WRITE_BUDGET_MS = 10_000;

/**
 * How long after `closesAt` the round's workflow waits before its closing activity marks the
 * round `closingAt` and reads the scores. Chosen: 60 s. It must exceed
 * {@link SCORE_WRITE_BUDGET_MS} plus the clock skew between the API hosts and the Temporal
 * server whose timer ends the wait: a score checked before `closesAt` (API clock) is stored before
 * `closesAt + budget` (API clock), which is before the read as long as the clocks differ by less
 * than {@link SCORE_CLOCK_SKEW_MS}.
 */
export const SCORE_CLOSE_GRACE_MS = 60_000;

/**
 * The clock skew between API hosts and the Temporal server that the close tolerates:
 * {@link SCORE_CLOSE_GRACE_MS} − {@link SCORE_WRITE_BUDGET_MS} = 50 s. An assumption, not a
 * setting: NTP-synchronised hosts differ by milliseconds.
 */
export const SCORE_CLOCK_SKEW_MS = SCORE_CLOSE_GRACE_MS - SCORE_WRITE_BUDGET_MS;

export interface CriterionSpec {
  id: string;
  name: string;
}

/** A scorer group as stored with the round: its weight and, for selector groups, its scorers. */
export interface RoundGroup {
  id: string;
  name: string;
  /** Percent; a round's weights add up to 100. */
  weight: number;
  /** `requester`: the person who filed each order scores it (residents served). */
  requester: boolean;
  /**
   * With `requester`: only when a resident's account filed the order (`scorers: served`), not
   * staff filing it for somebody. Absent in rounds and groups before it: whoever filed.
   */
  residentsOnly?: boolean;
  /** The people the group's selectors found when the round opened (empty for `requester`). */
  scorers: Candidate[];
  /**
   * A 评单会 group: one meeting per unit of `unitsOfType`, recorded by its `host`; `scorers` are
   * then the hosts found when the round opened, each with the unit whose meeting they host.
   * Absent in other groups and in rounds before meetings.
   */
  meeting?: { unitsOfType: string; host: string };
}

/** Limits of a meeting record (chosen): the minutes up to 2,000 characters, up to 10,000 present. */
export const MEETING_MINUTES_MAX = 2000;
export const MEETING_ATTENDANCE_MAX = 10_000;

/**
 * A community's 评单会 as recorded by its host (Xunyi: 居民代表和被服务居民 … 个人讲述、集体评议,
 * seeds/002): when it was held, who came, a short minute, and how many orders it scored. One per
 * round, group and meeting unit; recording it again replaces it.
 */
export interface MeetingRecord {
  group: string;
  unitId: string;
  unitName: string;
  hostPersonId: string;
  hostName: string;
  /** The day it was held (YYYY-MM-DD, Beijing). */
  heldOn: string;
  /** 居民代表 present. */
  representatives: number;
  /** 被服务居民 present. */
  residents: number;
  /** 个人讲述、集体评议: a short minute. */
  minutes: string;
  /** Orders it scored. */
  orders: number;
  recordedAt: string;
}

/** What the workflow asks the activity to open: the round's orders are selected and stored. */
export interface OpenRoundRequest {
  roundId: string;
  stepId: string;
  definitionKey: string;
  unitId: string | null;
  /** Orders closed at or after `from` and before `to` (ISO instants). */
  from: string;
  to: string;
  definitions: string[] | null;
  /**
   * Without `definitions`: `service-orders`, the processes {@link isServiceOrderProcess} picks
   * (rounds opened since that default, marker `evaluation-service-orders`). Absent in rounds
   * opened before: every process but the round's own.
   */
  processes?: 'service-orders';
  criteria: CriterionSpec[];
  groups: RoundGroup[];
  /** The group the requester's own rating of an order (一单一打分) counts in, if any. */
  orderRatingGroup: string | null;
  /** The post whose holders answer for a unit's results (党组织书记 by default). */
  responsibleRole: string;
  closesAt: string;
  openedAt: string;
  /** Absent in rounds recorded before the change: `update`. */
  scoresVia?: ScoresVia;
}

/**
 * How a round takes its scores: `update`, as a score Update per submission (rounds opened before
 * the change, see workflows/patches.ts); `api`, written by the API as one document per scorer and
 * order in `evaluationScores` while the round is open, and read by the closing activity a grace
 * period after `closesAt` ({@link SCORE_CLOSE_GRACE_MS}).
 */
export type ScoresVia = 'update' | 'api';

/**
 * Whether a process is a service order (订单服务) a round scores by default: its definition
 * declares `measures.acceptance` (a handler takes the order on: 接单/签收) and has a `feedback`
 * step (the resident served rates it: 一单一打分). Monthly reports, roll-calls, admissions, the
 * whistle's call and the rounds themselves are not. Reads the spec loosely (stored specs of any
 * version), looking into parallel branches and repeated blocks too.
 */
export function isServiceOrderProcess(spec: unknown): boolean {
  if (typeof spec !== 'object' || spec === null) return false;
  const { measures, steps } = spec as { measures?: { acceptance?: unknown }; steps?: unknown };
  if (!Array.isArray(measures?.acceptance) || measures.acceptance.length === 0) return false;
  const hasFeedback = (list: unknown): boolean =>
    Array.isArray(list) &&
    list.some((step: unknown) => {
      if (typeof step !== 'object' || step === null) return false;
      const { type, branches } = step as { type?: unknown; branches?: unknown };
      if (type === 'feedback') return true;
      if (type === 'repeat') return hasFeedback((step as { steps?: unknown }).steps);
      return (
        type === 'parallel' &&
        Array.isArray(branches) &&
        branches.some((b: unknown) => hasFeedback((b as { steps?: unknown } | null)?.steps))
      );
    });
  return hasFeedback(steps);
}

/**
 * A resident's account (居民) scores its own orders in a `served` group: its roles hold
 * `resident` and none of the staff's (admin, dispatcher, staff), so staff who filed an order for
 * somebody, or who also hold a resident's role, do not score it as the resident served.
 */
export function isResidentAccount(roles: readonly string[]): boolean {
  return (
    roles.includes('resident') &&
    !roles.some((r) => r === 'admin' || r === 'dispatcher' || r === 'staff')
  );
}

export interface OpenRoundResult {
  items: number;
  /** More orders than one round may score: nothing was stored. */
  refused: boolean;
}

/** One scorer's scores on one order: a value per criterion. */
export interface ScoreEntry {
  itemId: string;
  values: Record<string, number>;
  comment?: string;
}

/** What the API sends once it has checked the scorer may score each entry in `group`. */
export interface ScoreRequest {
  actor: ActingPrincipal;
  group: string;
  entries: ScoreEntry[];
}

export interface ScoreResult {
  roundId: string;
  group: string;
  recorded: number;
}

/**
 * Every criterion scored with a whole number 1–5, and nothing else. `prefix` names where the
 * entries sit in the request (`scores` in the Update, `body.scores` at the API).
 */
export function scoreProblems(
  entries: ReadonlyArray<{ values?: Record<string, number> }>,
  criteria: readonly CriterionSpec[],
  prefix = 'scores',
): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const ids = new Set(criteria.map((c) => c.id));
  entries.forEach((entry, i) => {
    for (const c of criteria) {
      const value = entry.values?.[c.id];
      if (!Number.isInteger(value) || value! < SCORE_MIN || value! > SCORE_MAX) {
        problems.push({
          path: `${prefix}[${i}].values.${c.id}`,
          message: `${c.name}: a whole number from ${SCORE_MIN} to ${SCORE_MAX}`,
        });
      }
    }
    for (const key of Object.keys(entry.values ?? {})) {
      if (!ids.has(key)) {
        problems.push({ path: `${prefix}[${i}].values.${key}`, message: 'unknown criterion' });
      }
    }
  });
  return problems;
}

export interface CloseRoundResult {
  items: number;
  scored: number;
  /** Orders without any score at all (recorded as missing, never given a default). */
  missing: number;
  score: number | null;
}

// ---------------------------------------------------------------------------------------------
// Results

/** A stored score as the arithmetic reads it. */
export interface ScoreInput {
  itemId: string;
  group: string;
  values: Record<string, number>;
}

export interface ItemInput {
  itemId: string;
  unitId: string | null;
  definitionKey: string;
  /** The requester's own rating of the order, 1–5, or null (not rated). */
  rating: number | null;
  /** Who served it (the case's `servedBy` when the round opened); absent in older items. */
  servedUnitIds?: readonly string[];
  servedPersonIds?: readonly string[];
}

export interface UnitInput {
  id: string;
  name: string;
  type: string;
  parentId: string | null;
}

export interface ResponsibleInput {
  personId: string;
  name: string;
  unitId: string;
}

export interface GroupFigure {
  id: string;
  /** How many scores of the group (the order rating counts as one). */
  scores: number;
  /** Mean of the group's scores (each score the mean of its criteria), 2 decimals. */
  mean: number | null;
}

export interface CriterionFigure {
  id: string;
  mean: number | null;
}

/** The figures of a set of orders: a unit's subtree, a secretary's units, the whole round. */
export interface ResultFigures {
  items: number;
  /** Orders with at least one score. */
  scored: number;
  /** Orders without any score (missing, not zero). */
  missing: number;
  /** Mean of the scored orders' weighted scores (1–5), 2 decimals; null when none was scored. */
  score: number | null;
  groups: GroupFigure[];
  criteria: CriterionFigure[];
}

export interface ItemResult {
  itemId: string;
  unitId: string | null;
  definitionKey: string;
  /** The units and people who served the order (empty when nobody is recorded). */
  servedUnitIds: string[];
  servedPersonIds: string[];
  /** Weighted over the groups that scored it (their weights renormalised); null when none did. */
  score: number | null;
  groups: GroupFigure[];
  /** Groups that gave no score for this order. */
  missingGroups: string[];
}

export interface UnitResult extends ResultFigures {
  unitId: string;
  name: string;
  type: string;
  parentId: string | null;
  /** The parent's name (the county for a street's round), or null. */
  parentName: string | null;
}

export interface SecretaryResult extends ResultFigures {
  personId: string;
  name: string;
  /** The units whose posts make the person answer for these orders. */
  units: Array<{ id: string; name: string }>;
}

/** A unit that served orders of the round (co-building unit, department, grid…): its orders. */
export interface ServedUnitResult extends ResultFigures {
  unitId: string;
  name: string;
  type: string | null;
  /** The unit it hangs under (the street or community a co-building unit serves), or null. */
  parentName: string | null;
}

/** A person who served orders of the round (party member, volunteer, grid worker…): their orders. */
export interface ServedPersonResult extends ResultFigures {
  personId: string;
  name: string;
}

export interface RoundResults {
  criteria: CriterionSpec[];
  groups: Array<{ id: string; name: string; weight: number }>;
  overall: ResultFigures;
  units: UnitResult[];
  secretaries: SecretaryResult[];
  /**
   * Per unit and per person who served the orders (each order counts for every one of them),
   * best score first; in results frozen before this attribution, absent (read as empty).
   */
  servedUnits?: ServedUnitResult[];
  servedPeople?: ServedPersonResult[];
  /** The 评单会 recorded in the round, by group and unit; absent in rounds without a meeting group. */
  meetings?: MeetingRecord[];
  items: ItemResult[];
}

export interface ResultsInput {
  rootUnitId: string | null;
  criteria: readonly CriterionSpec[];
  groups: ReadonlyArray<{ id: string; name: string; weight: number }>;
  orderRatingGroup: string | null;
  items: readonly ItemInput[];
  scores: readonly ScoreInput[];
  units: readonly UnitInput[];
  responsible: readonly ResponsibleInput[];
  /** Names of the people who served (a person not found is listed by id). */
  servedPeople?: ReadonlyArray<{ personId: string; name: string }>;
  /** The meetings recorded (meeting groups only), kept with the results as they were. */
  meetings?: readonly MeetingRecord[];
}

/** Two decimals, half away from zero (as a spreadsheet rounds a displayed score). */
export function round2(value: number): number {
  return (Math.sign(value) * Math.round(Math.abs(value) * 100 + 1e-9)) / 100;
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** One score as a single number: the mean of its criteria. */
function scoreValue(values: Record<string, number>, criteria: readonly CriterionSpec[]): number {
  return mean(criteria.map((c) => values[c.id] ?? 0))!;
}

interface ItemWork {
  item: ItemInput;
  /** Each group's score values (one number per score) and per-criterion values. */
  byGroup: Map<string, number[]>;
  byCriterion: Map<string, number[]>;
  weighted: number | null;
}

/**
 * The weighted score of one order: each group's mean score, weighted by the groups' weights,
 * over the groups that scored the order only (a group that gave nothing is missing, not zero,
 * so the weights of the others are renormalised). Null when no group scored it.
 */
export function weightedScore(
  groupMeans: ReadonlyArray<{ weight: number; mean: number | null }>,
): number | null {
  let sum = 0;
  let weights = 0;
  for (const g of groupMeans) {
    if (g.mean === null) continue;
    sum += g.weight * g.mean;
    weights += g.weight;
  }
  return weights === 0 ? null : sum / weights;
}

function figuresOf(
  works: readonly ItemWork[],
  input: Pick<ResultsInput, 'groups' | 'criteria'>,
): ResultFigures {
  const scored = works.filter((w) => w.weighted !== null);
  return {
    items: works.length,
    scored: scored.length,
    missing: works.length - scored.length,
    score: roundOrNull(mean(scored.map((w) => w.weighted!))),
    groups: input.groups.map((g) => {
      const values = works.flatMap((w) => w.byGroup.get(g.id) ?? []);
      return { id: g.id, scores: values.length, mean: roundOrNull(mean(values)) };
    }),
    criteria: input.criteria.map((c) => ({
      id: c.id,
      mean: roundOrNull(mean(works.flatMap((w) => w.byCriterion.get(c.id) ?? []))),
    })),
  };
}

function roundOrNull(value: number | null): number | null {
  return value === null ? null : round2(value);
}

/**
 * A round's results: per order, per unit (each unit with everything below it, in tree order:
 * parents first, children by id), per holder of the responsible post (the orders of all their
 * units' subtrees, each order once), and overall. Units with no order below them are left out,
 * except the round's own unit.
 */
export function computeRoundResults(input: ResultsInput): RoundResults {
  const works: ItemWork[] = input.items.map((item) => ({
    item,
    byGroup: new Map(),
    byCriterion: new Map(),
    weighted: null,
  }));
  const byId = new Map(works.map((w) => [w.item.itemId, w]));
  const add = (work: ItemWork, group: string, values: Record<string, number>) => {
    const list = work.byGroup.get(group) ?? [];
    list.push(scoreValue(values, input.criteria));
    work.byGroup.set(group, list);
    for (const c of input.criteria) {
      const v = values[c.id];
      if (v === undefined) continue;
      const cl = work.byCriterion.get(c.id) ?? [];
      cl.push(v);
      work.byCriterion.set(c.id, cl);
    }
  };
  const known = new Set(input.groups.map((g) => g.id));
  for (const score of input.scores) {
    const work = byId.get(score.itemId);
    if (work && known.has(score.group)) add(work, score.group, score.values);
  }
  if (input.orderRatingGroup !== null && known.has(input.orderRatingGroup)) {
    for (const work of works) {
      const rating = work.item.rating;
      if (rating === null) continue;
      add(
        work,
        input.orderRatingGroup,
        Object.fromEntries(input.criteria.map((c) => [c.id, rating])),
      );
    }
  }
  for (const work of works) {
    work.weighted = weightedScore(
      input.groups.map((g) => ({ weight: g.weight, mean: mean(work.byGroup.get(g.id) ?? []) })),
    );
  }

  // The tree below the round's unit (the whole tree for a round without one).
  const units = new Map(input.units.map((u) => [u.id, u]));
  const children = new Map<string, string[]>();
  for (const u of input.units) {
    if (u.parentId === null || !units.has(u.parentId)) continue;
    const list = children.get(u.parentId) ?? [];
    list.push(u.id);
    children.set(u.parentId, list);
  }
  for (const list of children.values()) list.sort();
  const roots =
    input.rootUnitId !== null && units.has(input.rootUnitId)
      ? [input.rootUnitId]
      : input.units
          .filter((u) => u.parentId === null || !units.has(u.parentId))
          .map((u) => u.id)
          .sort();
  const order: string[] = [];
  const below = new Map<string, ItemWork[]>();
  const ownItems = new Map<string, ItemWork[]>();
  for (const w of works) {
    if (w.item.unitId === null) continue;
    const list = ownItems.get(w.item.unitId) ?? [];
    list.push(w);
    ownItems.set(w.item.unitId, list);
  }
  const visit = (id: string, seen: Set<string>): ItemWork[] => {
    if (seen.has(id)) return [];
    seen.add(id);
    order.push(id);
    const collected = [...(ownItems.get(id) ?? [])];
    for (const child of children.get(id) ?? []) collected.push(...visit(child, seen));
    below.set(id, collected);
    return collected;
  };
  const seen = new Set<string>();
  for (const root of roots) visit(root, seen);

  const unitResults: UnitResult[] = order
    .filter((id) => (below.get(id)?.length ?? 0) > 0 || id === input.rootUnitId)
    .map((id) => {
      const unit = units.get(id)!;
      return {
        unitId: id,
        name: unit.name,
        type: unit.type,
        parentId: unit.parentId,
        parentName: unit.parentId === null ? null : (units.get(unit.parentId)?.name ?? null),
        ...figuresOf(below.get(id) ?? [], input),
      };
    });

  const people = new Map<string, { name: string; unitIds: string[] }>();
  for (const post of input.responsible) {
    if (!below.has(post.unitId)) continue;
    const entry = people.get(post.personId) ?? { name: post.name, unitIds: [] };
    if (!entry.unitIds.includes(post.unitId)) entry.unitIds.push(post.unitId);
    people.set(post.personId, entry);
  }
  const position = new Map(order.map((id, i) => [id, i]));
  const secretaries: SecretaryResult[] = [...people.entries()]
    .map(([personId, entry]) => {
      const unitIds = [...entry.unitIds].sort((a, b) => position.get(a)! - position.get(b)!);
      const items = new Set<ItemWork>();
      for (const id of unitIds) for (const w of below.get(id) ?? []) items.add(w);
      return {
        personId,
        name: entry.name,
        units: unitIds.map((id) => ({ id, name: units.get(id)!.name })),
        ...figuresOf([...items], input),
      };
    })
    .filter((s) => s.items > 0)
    .sort(
      (a, b) =>
        position.get(a.units[0]!.id)! - position.get(b.units[0]!.id)! ||
        (a.personId < b.personId ? -1 : 1),
    );

  // Who served: each serving unit and person with the orders they served, wherever filed.
  const byServingUnit = new Map<string, ItemWork[]>();
  const byServingPerson = new Map<string, ItemWork[]>();
  const push = (map: Map<string, ItemWork[]>, id: string, w: ItemWork) => {
    const list = map.get(id);
    if (list) list.push(w);
    else map.set(id, [w]);
  };
  for (const w of works) {
    for (const id of new Set(w.item.servedUnitIds ?? [])) push(byServingUnit, id, w);
    for (const id of new Set(w.item.servedPersonIds ?? [])) push(byServingPerson, id, w);
  }
  const personNames = new Map((input.servedPeople ?? []).map((p) => [p.personId, p.name]));
  const servedUnits: ServedUnitResult[] = [...byServingUnit.entries()]
    .map(([unitId, list]) => {
      const unit = units.get(unitId);
      return {
        unitId,
        name: unit?.name ?? unitId,
        type: unit?.type ?? null,
        parentName:
          unit === undefined || unit.parentId === null
            ? null
            : (units.get(unit.parentId)?.name ?? null),
        ...figuresOf(list, input),
      };
    })
    .sort((a, b) => byScoreThenId({ ...a, id: a.unitId }, { ...b, id: b.unitId }));
  const servedPeople: ServedPersonResult[] = [...byServingPerson.entries()]
    .map(([personId, list]) => ({
      personId,
      name: personNames.get(personId) ?? personId,
      ...figuresOf(list, input),
    }))
    .sort((a, b) => byScoreThenId({ ...a, id: a.personId }, { ...b, id: b.personId }));

  return {
    criteria: [...input.criteria],
    groups: input.groups.map((g) => ({ id: g.id, name: g.name, weight: g.weight })),
    overall: figuresOf(works, input),
    units: unitResults,
    secretaries,
    servedUnits,
    servedPeople,
    ...(input.meetings !== undefined
      ? {
          meetings: [...input.meetings].sort((a, b) =>
            a.group === b.group ? (a.unitId < b.unitId ? -1 : 1) : a.group < b.group ? -1 : 1,
          ),
        }
      : {}),
    items: works.map((w) => ({
      itemId: w.item.itemId,
      unitId: w.item.unitId,
      definitionKey: w.item.definitionKey,
      servedUnitIds: [...(w.item.servedUnitIds ?? [])],
      servedPersonIds: [...(w.item.servedPersonIds ?? [])],
      score: roundOrNull(w.weighted),
      groups: input.groups.map((g) => {
        const values = w.byGroup.get(g.id) ?? [];
        return { id: g.id, scores: values.length, mean: roundOrNull(mean(values)) };
      }),
      missingGroups: input.groups.filter((g) => !w.byGroup.has(g.id)).map((g) => g.id),
    })),
  };
}

/** Best score first (none scored last), then by id: a ranking of who served. */
function byScoreThenId(
  a: { score: number | null; id: string },
  b: { score: number | null; id: string },
): number {
  const sa = a.score ?? -Infinity;
  const sb = b.score ?? -Infinity;
  if (sa !== sb) return sb - sa;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// CSV

/** Re-exported: the CSV writing helpers live in csv.ts. */
export { csvField, toCsv } from './csv';

const fixed2 = (value: number | null) => (value === null ? null : value.toFixed(2));

/**
 * The report as a spreadsheet: a header row, then one row per unit (tree order), one per
 * responsible person, one per serving unit (服务单位) and one per serving person (服务人员). Scores with two decimals; a figure nobody gave is an empty cell.
 */
export function resultsCsv(results: RoundResults): string {
  return toCsv(resultsTable(results));
}

/** The rows of {@link resultsCsv}, header first (the CSV and XLSX exports write the same rows). */
export function resultsTable(results: RoundResults): Cell[][] {
  const header = [
    '类型',
    '编号',
    '名称',
    '所属单位',
    '评单数',
    '已评单数',
    '缺评单数',
    '综合得分',
    ...results.groups.map((g) => `${g.name}（权重${g.weight}%）`),
    ...results.criteria.map((c) => c.name),
  ];
  const figures = (f: ResultFigures) => [
    f.items,
    f.scored,
    f.missing,
    fixed2(f.score),
    ...f.groups.map((g) => fixed2(g.mean)),
    ...f.criteria.map((c) => fixed2(c.mean)),
  ];
  const rows: Cell[][] = [header];
  for (const unit of results.units) {
    rows.push(['单位', unit.unitId, unit.name, unit.parentName, ...figures(unit)]);
  }
  for (const person of results.secretaries) {
    rows.push([
      '书记',
      person.personId,
      person.name,
      person.units.map((u) => u.name).join('、'),
      ...figures(person),
    ]);
  }
  for (const unit of results.servedUnits ?? []) {
    rows.push(['服务单位', unit.unitId, unit.name, unit.parentName, ...figures(unit)]);
  }
  for (const person of results.servedPeople ?? []) {
    rows.push(['服务人员', person.personId, person.name, null, ...figures(person)]);
  }
  // The 评单会 records: a block of their own after a blank row (rounds with a meeting group).
  const meetings = results.meetings ?? [];
  if (meetings.length > 0) {
    const groupNames = new Map(results.groups.map((g) => [g.id, g.name]));
    rows.push([]);
    rows.push([
      '评单会',
      '单位编号',
      '单位',
      '召开日期',
      '居民代表人数',
      '被服务居民人数',
      '评议订单数',
      '主持人',
      '评议纪要',
    ]);
    for (const m of meetings) {
      rows.push([
        groupNames.get(m.group) ?? m.group,
        m.unitId,
        m.unitName,
        m.heldOn,
        m.representatives,
        m.residents,
        m.orders,
        m.hostName,
        m.minutes,
      ]);
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Annual assessment records (年度考核记录)

/**
 * `secretary`, `unit`, `serving-unit`: written by an evaluation round's close; `department`: by a
 * street's assessment of the departments (条块考核, common/department-assessment.ts).
 */
export type AssessmentKind = 'secretary' | 'unit' | 'serving-unit' | 'department';
export const ASSESSMENT_KINDS: readonly AssessmentKind[] = [
  'secretary',
  'unit',
  'serving-unit',
  'department',
];

/** One round's figures for one subject, as the assessment record keeps them. */
export interface AssessmentRecord {
  /** `<round>:<kind>:<subject id>`: one per round and subject, whatever retries the close. */
  id: string;
  roundId: string;
  roundUnitId: string | null;
  /** The Beijing calendar year the round's period ends in (its last day's year). */
  year: number;
  kind: AssessmentKind;
  subjectId: string;
  name: string;
  /** A secretary's units; a unit's parent (the street a co-building unit serves). */
  unitNames: string[];
  period: { from: string; to: string };
  items: number;
  scored: number;
  missing: number;
  score: number | null;
  closedAt: string;
  /** `department` only: the street's share of the department's annual score, percent. */
  weight?: number;
  /** `department` only: score × weight ÷ 100 (0 when vetoed; null without a score). */
  weightedScore?: number | null;
  /** `department` only: the rates the score was made of (null: nothing to divide by). */
  rates?: Partial<Record<string, number | null>>;
  /** `department` only: the street's veto (一票否决), which fails the department's year. */
  veto?: { reason: string; by: string | null } | null;
}

const BEIJING_OFFSET_MS = 8 * 3600_000;

/**
 * The most assessment records one CSV export holds; more is refused (narrow by year or kind), not
 * cut short. Chosen: 5,000 (a county of 20 streets, two rounds a year, about 100 subjects each
 * is 4,000 a year).
 */
export const ASSESSMENT_CSV_MAX = 5000;

/** The Beijing year of a period's end: `to` is exclusive (the instant after its last day). */
export function beijingYearOfEnd(to: string): number {
  return new Date(Date.parse(to) - 1 + BEIJING_OFFSET_MS).getUTCFullYear();
}

/**
 * The assessment records of a closed round: one per secretary (述职考核), per unit of the place
 * (with everything below it) and per serving unit (双评双考), from its frozen results.
 */
export function assessmentRecordsOf(round: {
  roundId: string;
  roundUnitId: string | null;
  period: { from: string; to: string };
  closedAt: string;
  results: RoundResults;
}): AssessmentRecord[] {
  const year = beijingYearOfEnd(round.period.to);
  const base = {
    roundId: round.roundId,
    roundUnitId: round.roundUnitId,
    year,
    period: round.period,
    closedAt: round.closedAt,
  };
  const record = (
    kind: AssessmentKind,
    subjectId: string,
    name: string,
    unitNames: Array<string | null>,
    f: ResultFigures,
  ): AssessmentRecord => ({
    id: `${round.roundId}:${kind}:${subjectId}`,
    ...base,
    kind,
    subjectId,
    name,
    unitNames: unitNames.filter((n): n is string => n !== null),
    items: f.items,
    scored: f.scored,
    missing: f.missing,
    score: f.score,
  });
  return [
    ...round.results.secretaries.map((s) =>
      record(
        'secretary',
        s.personId,
        s.name,
        s.units.map((u) => u.name),
        s,
      ),
    ),
    ...round.results.units.map((u) => record('unit', u.unitId, u.name, [u.parentName], u)),
    ...(round.results.servedUnits ?? []).map((u) =>
      record('serving-unit', u.unitId, u.name, [u.parentName], u),
    ),
  ];
}

const ASSESSMENT_KIND_NAMES: Record<AssessmentKind, string> = {
  secretary: '党组织书记',
  unit: '单位',
  'serving-unit': '服务单位',
  department: '职能部门（条块考核）',
};

/** The records as a spreadsheet: a header row, then one row per record as given. */
export function assessmentTable(records: readonly AssessmentRecord[]): Cell[][] {
  return [
    [
      '年度',
      '类型',
      '编号',
      '名称',
      '所属单位',
      '评议轮次',
      '评议期起',
      '评议期止',
      '评单数',
      '已评单数',
      '缺评单数',
      '综合得分',
      '街道权重(%)',
      '计入年度得分',
      '一票否决',
      '否决理由',
    ],
    ...records.map((r) => [
      r.year,
      ASSESSMENT_KIND_NAMES[r.kind],
      r.subjectId,
      r.name,
      r.unitNames.join('、'),
      r.roundId,
      r.period.from,
      r.period.to,
      r.items,
      r.scored,
      r.missing,
      fixed2(r.score),
      // 条块考核 (kind `department`) only: the street's weight, its part, the veto.
      r.weight ?? null,
      r.weightedScore === undefined ? null : fixed2(r.weightedScore),
      r.kind === 'department' ? (r.veto ? '是' : '否') : null,
      r.veto?.reason ?? null,
    ]),
  ];
}
