import type { CaseMetrics } from './case';
import type { MetricField } from './case-measures';
import { beijingMonth, METRIC_FIELDS } from './case-measures';

/**
 * The keys of the metric roll-ups (activities/metric-rollups.ts): one document per unit and
 * Beijing month a case was received in, holding one entry of summed figures per process and
 * category (`parts.<part>`). Three kinds of document: `place` (the unit the case was filed for,
 * `_id` `place|unitId|month`), `served` (each distinct unit that served it, `servedBy.unitIds`,
 * `_id` `served|unitId|month`) and `servedSet` (the set of units that served it, once,
 * `_id` `servedSet|u1,u2|month`, the set in `unitIds`: a subtree's served total reads the sets
 * that meet it, so a case served by two of its units counts once). Every figure of
 * {@link METRIC_FIELDS} is summed, so a new flag needs no change here. Pure, shared by the writer
 * and the metrics service that reads them.
 */

export type Sums = Record<MetricField, number>;

/** Whom a roll-up counts a case for: the unit it was filed for, or a unit that served it. */
export const ROLLUP_BYS = ['place', 'served', 'servedSet'] as const;
export type RollupBy = (typeof ROLLUP_BYS)[number];

/**
 * The `metricRollupMarks` document in which the folder counts its batches (`seq`, `running`):
 * written by the one folder only, read by `_id` by the metrics to know whether a fold ran while
 * they read.
 */
export const FOLD_SEQ = 'fold-seq';

export interface RollupKey {
  by: RollupBy;
  /** The unit (`place`, `served`); null for a `servedSet`. */
  unitId: string | null;
  /** A `servedSet`'s units, sorted. */
  unitIds?: string[];
  /** The Beijing month of the case's `createdAt` (what a period selects on). */
  month: string;
  /** The case's `metrics.month` (what the monthly trend groups by); nearly always `month`. */
  trendMonth: string;
  definitionKey: string;
  category: string | null;
}

/** Field names may hold neither `.` nor a leading `$`, and `~` separates the part's pieces. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/\./g, '%2E').replace(/~/g, '%7E');
}

/** The roll-up document of a key: its kind, unit (or set of units) and month. */
export function rollupIdOf(key: Pick<RollupKey, 'by' | 'unitId' | 'unitIds' | 'month'>): string {
  const units =
    key.by === 'servedSet'
      ? (key.unitIds ?? []).map((id) => encodeURIComponent(id)).join(',')
      : (key.unitId ?? '');
  return `${key.by}|${units}|${key.month}`;
}

/** The entry of a key inside its document (process, category, trend month when it differs). */
export function rollupPartOf(key: RollupKey): string {
  const base = `${encode(key.definitionKey)}~${key.category === null ? '' : encode(key.category)}`;
  return key.trendMonth === key.month ? base : `${base}~${key.trendMonth}`;
}

/** The document and entry of a key, as one string (to compare keys). */
export function rollupSlotOf(key: RollupKey): string {
  return `${rollupIdOf(key)}#${rollupPartOf(key)}`;
}

/** The process, category and trend month of an entry of a document of `month`. */
export function parseRollupPart(
  part: string,
  month: string,
): Pick<RollupKey, 'definitionKey' | 'category' | 'trendMonth'> {
  const [definitionKey = '', category = '', trendMonth] = part.split('~');
  return {
    definitionKey: decodeURIComponent(definitionKey),
    category: category === '' ? null : decodeURIComponent(category),
    trendMonth: trendMonth ?? month,
  };
}

export interface RollupCase {
  unitId?: string | null;
  createdAt: Date | string;
  definitionKey: string;
  category?: string | null;
  metrics?: Partial<CaseMetrics> | null;
  servedBy?: { unitIds?: unknown } | null;
}

/** The distinct units that served a case, sorted (ids only). */
export function servingUnitsOf(doc: Pick<RollupCase, 'servedBy'>): string[] {
  const ids = doc.servedBy?.unitIds;
  if (!Array.isArray(ids)) return [];
  return [...new Set(ids.filter((v): v is string => typeof v === 'string'))].sort();
}

/**
 * The keys a case's figures are summed under: its place, each distinct unit that served it, and
 * the set of them.
 */
export function rollupKeysOf(doc: RollupCase): RollupKey[] {
  const month = beijingMonth(new Date(doc.createdAt).getTime());
  const trendMonth =
    typeof doc.metrics?.month === 'string' && doc.metrics.month !== '' ? doc.metrics.month : month;
  const common = {
    month,
    trendMonth,
    definitionKey: doc.definitionKey,
    category: doc.category ?? null,
  };
  const serving = servingUnitsOf(doc);
  return [
    { by: 'place', unitId: doc.unitId ?? null, ...common },
    ...serving.map((unitId) => ({ by: 'served' as const, unitId, ...common })),
    ...(serving.length > 0
      ? [{ by: 'servedSet' as const, unitId: null, unitIds: serving, ...common }]
      : []),
  ];
}

/** The numeric figures of stored metrics (a missing or non-numeric field counts as 0). */
export function sumsOf(metrics: Partial<Record<string, unknown>> | null | undefined): Sums {
  const sums = {} as Sums;
  for (const field of METRIC_FIELDS) {
    const value = Number(metrics?.[field] ?? 0);
    sums[field] = Number.isFinite(value) ? value : 0;
  }
  return sums;
}

/** A roll-up document's entries: summed figures per `process~category[~trendMonth]` part. */
export type RollupParts = Record<string, Partial<Sums>>;

/**
 * A roll-up document's entries as stored: one JSON string (`partsJson`). FerretDB v1 converts
 * every field of a document between PostgreSQL's jsonb and BSON on each read, so its cost follows
 * the number of fields, not only the bytes: a grid's month as nested fields (about 300 numbers at
 * 20,000 cases) read 13 times slower than as one string (measured: 1,533 documents in 6.9 s
 * against 0.45 s, docs/metrics-at-scale.md). Only the folder and the rebuild write it, whole
 * (activities/metric-rollups.ts).
 *
 * The string is columnar (docs/metrics-at-scale.md, "Columnar entries"): `[fields, entries]`,
 * the names of the figures that are not zero in some entry once per document (in
 * {@link METRIC_FIELDS} order), and each entry as an array of numbers in that order, trailing
 * zeros left out; an entry of zeros only is left out. As objects (`{"part": {"received": 3, …}}`,
 * what versions before wrote, still read by {@link unpackRollupParts}), the field names were most
 * of a period document's bytes, and FerretDB's and the reader's cost follows the bytes too.
 */
export function packRollupParts(parts: Readonly<Record<string, Partial<Sums>>>): string {
  const used = new Set<string>();
  for (const sums of Object.values(parts)) {
    for (const [field, value] of Object.entries(sums)) {
      if (typeof value === 'number' && value !== 0 && Number.isFinite(value)) used.add(field);
    }
  }
  // The known figures in their order, then any other (a figure a later version added) by name.
  const known = new Set<string>(METRIC_FIELDS);
  const fields = [
    ...METRIC_FIELDS.filter((f) => used.has(f)),
    ...[...used].filter((f) => !known.has(f)).sort(),
  ];
  const entries: Record<string, number[]> = {};
  for (const [part, sums] of Object.entries(parts)) {
    const row = fields.map((field) => {
      const value = (sums as Record<string, unknown>)[field];
      return typeof value === 'number' && Number.isFinite(value) ? value : 0;
    });
    while (row.length > 0 && row[row.length - 1] === 0) row.pop();
    if (row.length > 0) entries[part] = row;
  }
  return JSON.stringify([fields, entries]);
}

/** The entries of a columnar `partsJson` (see {@link packRollupParts}); null: not that shape. */
function unpackColumns(packed: unknown): RollupParts | null {
  if (!Array.isArray(packed) || packed.length !== 2) return null;
  const [fields, rows] = packed as [unknown, unknown];
  if (!Array.isArray(fields) || rows === null || typeof rows !== 'object') return null;
  const names = fields.map(String) as MetricField[];
  const entries: RollupParts = {};
  for (const [part, row] of Object.entries(rows as Record<string, unknown>)) {
    if (!Array.isArray(row)) continue;
    const sums: Partial<Sums> = {};
    const count = Math.min(row.length, names.length);
    for (let i = 0; i < count; i += 1) {
      const value = row[i] as unknown;
      if (typeof value === 'number' && value !== 0) sums[names[i]!] = value;
    }
    entries[part] = sums;
  }
  return entries;
}

/**
 * The entries of a stored roll-up document: `partsJson` (columnar, or entries as objects as the
 * versions before the columns wrote it), plus `parts` as nested fields (what versions before the
 * packing wrote; the folder packs a document the next time it folds into it, the rebuild packs
 * them all). Summed where both are there (never, unless written by hand).
 */
export function unpackRollupParts(stored: object): RollupParts {
  const doc = stored as { parts?: unknown; partsJson?: unknown };
  const entries: RollupParts = {};
  const addAll = (source: unknown) => {
    if (source === null || typeof source !== 'object') return;
    for (const [part, sums] of Object.entries(source as Record<string, unknown>)) {
      if (sums === null || typeof sums !== 'object') continue;
      const into = (entries[part] ??= {});
      for (const [field, value] of Object.entries(sums as Record<string, unknown>)) {
        const n = Number(value);
        if (!Number.isFinite(n)) continue;
        const key = field as MetricField;
        into[key] = (into[key] ?? 0) + n;
      }
    }
  };
  const parsed: unknown =
    typeof doc.partsJson === 'string' && doc.partsJson !== '' ? JSON.parse(doc.partsJson) : null;
  const packed = unpackColumns(parsed) ?? parsed;
  // Only packed entries (every document the folder or the rebuild wrote): as unpacked, no copy;
  // what reads them converts each figure with Number() (sumsOf) anyway.
  if (doc.parts === undefined && packed !== null && typeof packed === 'object') {
    return packed as RollupParts;
  }
  addAll(doc.parts);
  addAll(packed);
  return entries;
}

/**
 * Roll-ups per subtree (docs/metrics-at-scale.md, "Roll-ups per ancestor unit"): the folder adds
 * each change into its own document (above) and into one document per unit on the path from the
 * change's unit up to the root (the unit itself included), so a county or street view reads its
 * own and its children's documents instead of every grid's. One kind per kind above:
 *
 * - `placeTree|u|month`: the cases filed for `u` or any unit below it (a `place` change's path);
 * - `servedTree|u|month`: the `served` figures of the units at or below `u`, summed per serving
 *   unit as the children of a served view always were (a case two of them served counts twice);
 * - `servedIn|u|month`: the cases served by at least one unit at or below `u`, each once (a
 *   `servedSet` change goes into every unit on the union of its units' paths, once each): the
 *   served total of `u`.
 *
 * Each holds its unit's parent (`parentId`) and depth (`depth`), as the folder's tree had them,
 * so the children of a unit, or the units of one level, are one equality away.
 */
export const TREE_KINDS = ['placeTree', 'servedTree', 'servedIn'] as const;
export type TreeKind = (typeof TREE_KINDS)[number];

/** The subtree kind a change of each kind is added into. */
export const TREE_KIND_OF: Readonly<Record<RollupBy, TreeKind>> = {
  place: 'placeTree',
  served: 'servedTree',
  servedSet: 'servedIn',
};

/** The subtree document of a unit and month. */
export function treeRollupIdOf(kind: TreeKind, unitId: string, month: string): string {
  return `${kind}|${unitId}|${month}`;
}

/**
 * Period documents (docs/metrics-at-scale.md, "One document per unit and half year"): beside its
 * subtree document of the month, each change also goes into its unit's (and every ancestor's)
 * document of the Beijing **half year**, `placeTreeHalf|u|2026-H1` (`servedTreeHalf`,
 * `servedInHalf`), whose entries are keyed `<month>|<part>` (a month and one of the parts
 * above), so a view of several months of a half year reads one document per unit instead of one
 * per unit and month: the ranking of a county's 64 communities over 2026-H1 reads 64 documents,
 * not 384. A half year, not a year (chosen, measured: 64 documents of six months read in 307 ms,
 * of twelve in 514 ms, 384 documents of a month in 830 ms, bench/rollup-reads.ts): FerretDB's
 * cost follows the bytes too, and the half year is the period the 评议 and the dashboard ask.
 * Each carries `half`, `parentId` and `depth` (indexed `{by, half, parentId}`,
 * `{by, half, depth}`), no `month`. Kept, read and rebuilt exactly as the subtree documents of the
 * month are (the same `tree` mark decides whether they are kept and read).
 */
export const TREE_HALF_KINDS = ['placeTreeHalf', 'servedTreeHalf', 'servedInHalf'] as const;
export type TreeHalfKind = (typeof TREE_HALF_KINDS)[number];

/** The period document kind of each subtree kind. */
export const HALF_KIND_OF: Readonly<Record<TreeKind, TreeHalfKind>> = {
  placeTree: 'placeTreeHalf',
  servedTree: 'servedTreeHalf',
  servedIn: 'servedInHalf',
};

/** The Beijing half year of a month (`2026-03` → `2026-H1`, `2026-07` → `2026-H2`). */
export function halfOf(month: string): string {
  return `${month.slice(0, 4)}-H${Number(month.slice(5, 7)) <= 6 ? 1 : 2}`;
}

/** The period document of a unit and half year. */
export function treeHalfRollupIdOf(kind: TreeKind, unitId: string, half: string): string {
  return `${HALF_KIND_OF[kind]}|${unitId}|${half}`;
}

/**
 * The entry of a period document for a part of a month: `<month>|<part>` (a part's pieces are
 * URI-encoded, so `|` cannot occur in one).
 */
export function monthPartOf(month: string, part: string): string {
  return `${month}|${part}`;
}

/** The month and the part of a period document's entry (null: not an entry of that shape). */
export function splitMonthPart(entry: string): { month: string; part: string } | null {
  const bar = entry.indexOf('|');
  return bar < 0 ? null : { month: entry.slice(0, bar), part: entry.slice(bar + 1) };
}

/**
 * The `metricRollupMarks` document that says which unit tree the subtree documents follow:
 * `parentsJson` (unit id → parent id, as JSON) and `stale`. The folder adds new units to it and
 * sets `stale` before it folds a batch without the subtree documents (a unit it knew moved or
 * went); `npm run rebuild-rollups` rewrites them all and the mark. Readers use the subtree
 * documents only while the mark is there, not stale, and agrees with their own unit tree; the
 * period documents (TREE_HALF_KINDS) only when it also says `halves: true` (written whole with
 * them: the rebuild, or a store's first fold).
 */
export const TREE_MARK = 'tree';

/** Unit id → parent id (null for a root): the part of the unit tree the subtree documents follow. */
export type ParentMap = ReadonlyMap<string, string | null>;

/**
 * A unit and the units above it, nearest first (a cycle or a parent missing from the map ends
 * it). A unit the map does not know is its own path: its figures count for no ancestor, as a
 * reader rolling its documents up along the tree would count them.
 */
export function pathOf(unitId: string, parents: ParentMap): string[] {
  const path = [unitId];
  const seen = new Set(path);
  for (let at = parents.get(unitId) ?? null; at !== null && !seen.has(at);) {
    if (!parents.has(at)) break;
    path.push(at);
    seen.add(at);
    at = parents.get(at) ?? null;
  }
  return path;
}

/**
 * A unit's depth in the tree (the root's is `'0'`), as a string (an equality on a string is what
 * FerretDB v1 pushes down): the units of one level of a county (its communities, its grids) are
 * one equality away, which is what a ranking by unit type asks for.
 */
export function depthOf(unitId: string, parents: ParentMap): string {
  return String(pathOf(unitId, parents).length - 1);
}

/**
 * The units whose subtree document a change of a key goes into: the path of its unit (`place`,
 * `served`), or each unit of the union of its units' paths once (`servedSet`).
 */
export function treeUnitsOf(
  key: Pick<RollupKey, 'by' | 'unitId' | 'unitIds'>,
  parents: ParentMap,
): string[] {
  const units = key.by === 'servedSet' ? (key.unitIds ?? []) : key.unitId ? [key.unitId] : [];
  return [...new Set(units.flatMap((u) => pathOf(u, parents)))];
}

/**
 * Whether the subtree documents, written along `stored`, hold what rolling the per-unit documents
 * up along `current` would: every unit `stored` knows has the same parent in `current` (units
 * added since are new: no document holds them under another parent).
 */
export function treeAgrees(stored: ParentMap, current: ParentMap): boolean {
  for (const [unitId, parentId] of stored) {
    if (!current.has(unitId) || (current.get(unitId) ?? null) !== parentId) return false;
  }
  return true;
}

export function parentsToJson(parents: ParentMap): string {
  return JSON.stringify(Object.fromEntries([...parents].sort(([a], [b]) => (a < b ? -1 : 1))));
}

export function parentsFromJson(json: unknown): Map<string, string | null> {
  if (typeof json !== 'string' || json === '') return new Map();
  const parsed = JSON.parse(json) as Record<string, string | null>;
  return new Map(Object.entries(parsed).map(([id, p]) => [id, typeof p === 'string' ? p : null]));
}
