import type { LookupSource } from './definition';

/**
 * The `lookup` step's sources (读取登记数据): what each reads, which parameters it takes, and what
 * it leaves in `steps.<id>`. Shared by the validator (check.ts), the interpreter
 * (workflows/steps/lookup.ts), the activity that reads (activities/dual-report-members.ts) and the
 * process guide. Pure: types only from definition.ts, so the workflow bundle stays free of the
 * validation library.
 */

/**
 * The most people one lookup reads into a case (chosen: the result is recorded in the case's
 * history, about 200 bytes a member, so 500 members are about 100 KB of a 50 MB history; a
 * community's 双报到 members are a few dozen to a few hundred, Changwu 2,160 over 65 units and
 * its communities, seeds/002). The schema (definition.ts `max`) refuses more.
 */
export const MAX_LOOKUP_PEOPLE = 500;

/** The longest `summary` a lookup writes (a task form's `text` field takes 5,000 by default). */
export const MAX_LOOKUP_SUMMARY = 5000;

/** What a source needs and what it leaves in `steps.<id>` besides the common properties. */
export interface LookupSourceInfo {
  /** The parameters it requires (besides `source` and the optional `max`). */
  requires: ReadonlyArray<LookupParameter>;
  /** The parameters it takes when given (the validator refuses the others). */
  accepts: ReadonlyArray<LookupParameter>;
  /** One line for the docs and the validator. */
  description: string;
  /** What it leaves in `steps.<id>`: `steps.<id>.<property>` must name one of them. */
  properties: readonly string[];
}

/** A lookup's parameters besides `source` and `max`. */
export type LookupParameter = 'period' | 'unit';

/** What a `dual-report-members` lookup leaves in `steps.<id>`. */
export const LOOKUP_RESULT_PROPERTIES = [
  'status',
  'source',
  'period',
  'count',
  'members',
  'people',
  'homeUnits',
  'points',
  'summary',
] as const;

/** What an `open-items` lookup leaves in `steps.<id>`. */
export const OPEN_ITEMS_RESULT_PROPERTIES = [
  'status',
  'source',
  'count',
  'unclaimed',
  'overdue',
  'items',
  'summary',
] as const;

/**
 * The most items of each kind (unclaimed, overdue) an `open-items` lookup lists (chosen: a
 * meeting's agenda, not a work list; the counts are whole).
 */
export const MAX_OPEN_ITEMS_LISTED = 50;

/** One open item an `open-items` lookup lists: ids and figures, no resident's data. */
export interface OpenItem {
  /** `unclaimed`: a claim step (认领) open with nobody claiming; `overdue`: a deadline missed. */
  kind: 'unclaimed' | 'overdue';
  caseId: string;
  /** The case's process (definition key). */
  process: string;
  /** The case's unit. */
  unit: string | null;
  /** Whole days since the earliest missed deadline was due (overdue), since the claim opened (unclaimed). */
  days: number;
}

/** What an `open-items` lookup leaves in `steps.<id>`. */
export interface OpenItemsResult {
  status: 'read';
  source: 'open-items';
  /** Unclaimed and overdue together (a case both counts twice). */
  count: number;
  /** Open demands nobody claimed (the whole count). */
  unclaimed: number;
  /** Open cases with a deadline missed (the whole count). */
  overdue: number;
  /** At most MAX_OPEN_ITEMS_LISTED of each kind, longest waiting first. */
  items: OpenItem[];
  /** One line per listed item for the agenda, a `text` form field's default. */
  summary: string;
}

/** What a `secretary-record` lookup leaves in `steps.<id>`. */
export const SECRETARY_RECORD_RESULT_PROPERTIES = [
  'status',
  'source',
  'unit',
  'period',
  'round',
  'roundFrom',
  'roundTo',
  'satisfaction',
  'orders',
  'ratedOrders',
  'ratings',
  'project',
  'projectYear',
  'projectStatus',
  'projectGrade',
  'projectScore',
  'missing',
] as const;

/** What a `secretary-record` lookup could not find (its `missing` list names them). */
export type SecretaryRecordMissing = 'evaluation' | 'satisfaction' | 'project' | 'projectGrade';

/**
 * What a `secretary-record` lookup leaves in `steps.<id>`: ids and figures only, never a name. A
 * figure no record holds is null and named in `missing`, never made up.
 */
export interface SecretaryRecordResult {
  status: 'read';
  source: 'secretary-record';
  /** The unit read (the case's, or the one `unit` gave). */
  unit: string;
  /** The Beijing year read, or null for the latest records. */
  period: number | null;
  /** The evaluation round (评单) whose result was read: its case id. */
  round: string | null;
  /** The round's period: its first day and its last day (Beijing dates, inclusive). */
  roundFrom: string | null;
  roundTo: string | null;
  /** The unit's weighted score in the round (1–5, two decimals): null when no order was scored. */
  satisfaction: number | null;
  /** The unit's orders in the round, those scored, and how many scores they got (评分份数). */
  orders: number | null;
  ratedOrders: number | null;
  ratings: number | null;
  /** The secretary-project case read: its id, year (项目年度) and status. */
  project: string | null;
  projectYear: number | null;
  projectStatus: string | null;
  /** The year-end assessment's grade (好、较好、一般、差) and score, once assessed. */
  projectGrade: string | null;
  projectScore: number | null;
  /** What no record holds, in this order: evaluation, satisfaction, project, projectGrade. */
  missing: SecretaryRecordMissing[];
}

export const LOOKUP_SOURCE_INFO: Readonly<Record<LookupSource, LookupSourceInfo>> = {
  'dual-report-members': {
    requires: ['period'],
    accepts: ['period'],
    description:
      "the 双报到 members of the case's unit in the year `period` gives: each member registered there (a dual-report case filed for the unit or a unit under it, not declined, received before the year's end) or who earned points there in the year while belonging to a unit outside it (积分台账), with their own units, points and services",
    properties: LOOKUP_RESULT_PROPERTIES,
  },
  'open-items': {
    requires: [],
    accepts: [],
    description:
      "the open items of the case's unit and the units under it, for a meeting's agenda: demands nobody claimed (a claim step's task open with no claimant) and open cases with a deadline missed, counted, and at most 50 of each listed with case id, process, unit and days waiting or overdue (no resident's data)",
    properties: OPEN_ITEMS_RESULT_PROPERTIES,
  },
  'secretary-record': {
    requires: [],
    accepts: ['period', 'unit'],
    description:
      "for the case's unit (or the unit `unit` gives, at or below it), the latest (or the year `period` gives) closed 评单 round's result of that unit (its secretary's satisfaction score, orders, scored orders and scores given, the round's id and period) and its latest secretary-project case (id, year, status, the year-end grade and score once assessed); ids and figures only, what no record holds null and named in `missing`",
    properties: SECRETARY_RECORD_RESULT_PROPERTIES,
  },
};

/** One person a `dual-report-members` lookup found. */
export interface LookedUpMember {
  /** The person's id. */
  person: string;
  /** Their own units (registration's 所在单位 and the ledger's), sorted. */
  homeUnits: string[];
  /** Points earned serving the case's unit's subtree in the period. */
  points: number;
  /** How many earnings there (tasks and services done: 参加社区工作的次数). */
  services: number;
  /** Whether a registration (dual-report case) names them. */
  registered: boolean;
}

/** What a `lookup` step leaves in `steps.<id>` once it read. */
export interface LookupResult {
  status: 'read';
  source: LookupSource;
  /** The year read. */
  period: number;
  /** How many members. */
  count: number;
  /** Most points first, then by id. */
  members: LookedUpMember[];
  /** The members' person ids, in the same order: a `person` form field's default. */
  people: string[];
  /** Every member's own units, each once, sorted: a `unit` form field's default, a `forEach`. */
  homeUnits: string[];
  /** The members' points added up. */
  points: number;
  /** One line per member (姓名（单位）：N 分，M 次), a `text` form field's default. */
  summary: string;
}

/** Whether an expression's value is a year a lookup reads: a whole number 2000–2100. */
export function lookupYear(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 2000 && value <= 2100
    ? value
    : null;
}
