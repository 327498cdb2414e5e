/**
 * Day keys of the case list and the public board (docs/metrics-at-scale.md, "The case list and
 * the board"). FerretDB v1 pushes only a top-level equality down to PostgreSQL, where a GIN index
 * serves it (an array field matches any of its elements: checked in
 * test/workflow/store-indexes.test.ts); `$in`, `$ne`, ranges and sorts it does itself after reading
 * every row. So each case carries equality keys naming a scope root and a Beijing day (and hour):
 * a reader asks for one root's cases of one day, newest day first, and stops when its page is full.
 *
 * A key is `<root>|<day>` or `<root>|<day>T<hour>`; a root is `*` (everything: admins, the whole
 * board), `u:<unit id>` (the unit and everything below it: one key per ancestor of the case's unit,
 * the unit included) or `by:<principal id>` (what somebody filed: the list shows a person their own
 * cases wherever they were filed). Pure; the projection writes them, services/day-walk.ts reads.
 *
 * Rare filters (docs/metrics-at-scale.md, "Rare filters: keyed roots"): each `*` and `u:` root also
 * has **keyed roots** `<root>+<facet>`, one per facet of the case: its process (`p:<key>`) and
 * category (`c:<code>`), fixed at filing, and the rare states it reached (`s:rejected`,
 * `s:cancelled`, `s:failed`, `overdue`), added when it reaches them and never taken away. A list
 * filtered by one of them walks the keyed root's days only: the days that hold such a case.
 */

/** UTC+8: China has one time zone and no daylight saving. */
const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;

/** Root of every case (admins' list, the board without a unit). */
export const ALL_ROOT = '*';

export function unitRoot(unitId: string): string {
  return `u:${unitId}`;
}

export function ownerRoot(principalId: string): string {
  return `by:${principalId}`;
}

/**
 * Statuses a case seldom ends in, keyed for `status=…` (chosen: the terminal ones other than
 * `closed`; `open` has its own index, activities/open-cases.ts, and every case is `closed` or one
 * of these in the end, so keying `closed` would mark every day).
 */
export const KEYED_STATUSES: ReadonlySet<string> = new Set(['rejected', 'cancelled', 'failed']);

/** The facet of a process (fixed at filing). Values are URI-encoded: no `|` or `+` inside. */
export function processFacet(definitionKey: string): string {
  return `p:${encodeURIComponent(definitionKey)}`;
}

export function categoryFacet(category: string): string {
  return `c:${encodeURIComponent(category)}`;
}

export function statusFacet(status: string): string {
  return `s:${encodeURIComponent(status)}`;
}

/** A missed deadline (`metrics.overdue` 1): once missed, always missed. */
export const OVERDUE_FACET = 'overdue';

/** The facets a case has from its filing: its process and its category. */
export function filingFacets(
  definitionKey: string | null | undefined,
  category: string | null | undefined,
): string[] {
  return [
    ...(definitionKey ? [processFacet(definitionKey)] : []),
    ...(category ? [categoryFacet(category)] : []),
  ];
}

/** The facets of the rare states a case is in now: a keyed status, a missed deadline. */
export function stateFacets(status: string | null | undefined, overdue: boolean): string[] {
  return [
    ...(status && KEYED_STATUSES.has(status) ? [statusFacet(status)] : []),
    ...(overdue ? [OVERDUE_FACET] : []),
  ];
}

/** A root narrowed to one facet: `u:c1+c:road`. Unit ids hold no `+` (services/org-id.ts). */
export function keyedRoot(root: string, facet: string): string {
  return `${root}+${facet}`;
}

/** The Beijing day (`YYYY-MM-DD`) and hour (`00`–`23`) of an instant. */
export function chinaDayHourOf(instant: Date): { day: string; hour: string } {
  const text = new Date(instant.getTime() + CHINA_OFFSET_MS).toISOString();
  return { day: text.slice(0, 10), hour: text.slice(11, 13) };
}

export function dayKey(root: string, day: string): string {
  return `${root}|${day}`;
}

export function hourKey(root: string, day: string, hour: string): string {
  return `${root}|${day}T${hour}`;
}

/** Every root a case is listed under: everything, each unit from its own up, who filed it. */
export function rootsOf(unitAncestry: readonly string[], createdById: string | null): string[] {
  return [
    ALL_ROOT,
    ...unitAncestry.map(unitRoot),
    ...(createdById !== null ? [ownerRoot(createdById)] : []),
  ];
}

/** The day and hour keys of some roots at one instant (what the case stores, one array). */
export function keysAt(roots: readonly string[], instant: Date): string[] {
  const { day, hour } = chinaDayHourOf(instant);
  return roots.flatMap((root) => [dayKey(root, day), hourKey(root, day, hour)]);
}

/** The keyed roots of some facets: each facet under `*` and each unit root of the case. */
export function keyedRootsOf(roots: readonly string[], facets: readonly string[]): string[] {
  return facets.flatMap((facet) =>
    roots.filter(isSealedRoot).map((root) => keyedRoot(root, facet)),
  );
}

/**
 * The list's keys: by creation, under every root, and under the keyed roots of the case's facets
 * (its filing's, and the rare states it is in: {@link filingFacets}, {@link stateFacets}).
 */
export function caseListKeys(
  createdAt: Date,
  unitAncestry: readonly string[],
  createdById: string | null,
  facets: readonly string[] = [],
): string[] {
  const roots = rootsOf(unitAncestry, createdById);
  return keysAt([...roots, ...keyedRootsOf(roots, facets)], createdAt);
}

/**
 * The keys a case stored under `listDays` lacks for some facets (a rare state it reached after
 * filing): derived from its own `*` and `u:` keys, so no unit tree is needed to add them.
 */
export function missingFacetKeys(listDays: readonly string[], facets: readonly string[]): string[] {
  const have = new Set(listDays);
  const wanted = facets.flatMap((facet) =>
    listDays.flatMap((key) => {
      const bar = key.lastIndexOf('|');
      const root = key.slice(0, bar);
      return isSealedRoot(root) ? [`${keyedRoot(root, facet)}${key.slice(bar)}`] : [];
    }),
  );
  return [...new Set(wanted)].filter((key) => !have.has(key));
}

/** The board's keys: by publication, under everything and each unit from the case's up. */
export function boardKeys(publishedAt: Date, unitAncestry: readonly string[]): string[] {
  return keysAt([ALL_ROOT, ...unitAncestry.map(unitRoot)], publishedAt);
}

/** Which list a day marker counts for. */
export type ListKind = 'list' | 'board';

/**
 * The day markers of a case (`listDays` collection): one per root and day, counting the cases of
 * that root on that day, so a reader learns which days hold cases (and how many, for the estimate
 * of a total) with one read per root instead of probing every day of the calendar.
 */
export function markerIdsOf(kind: ListKind, roots: readonly string[], instant: Date): string[] {
  const { day } = chinaDayHourOf(instant);
  return roots.map((root) => markerId(kind, root, day));
}

export function markerKey(kind: ListKind, root: string): string {
  return `${kind}|${root}`;
}

export function markerId(kind: ListKind, root: string, day: string): string {
  return `${markerKey(kind, root)}|${day}`;
}

/** The 24 hours of a day, newest first. */
export const HOURS_NEWEST_FIRST: readonly string[] = Array.from({ length: 24 }, (_, i) =>
  String(23 - i).padStart(2, '0'),
);

/**
 * Roots whose days carry an exact count (a seal): everything and the units. A list read under one
 * of them alone, with no filter beyond what the root implies, skips whole days and hours before
 * its page by these counts; `by:` roots are always read beside a unit root (merged), never skipped.
 */
export function isSealedRoot(root: string): boolean {
  // Keyed roots (`u:c1+c:road`) are not sealed: a filtered list walks their days, never skips.
  return root === ALL_ROOT || (root.startsWith('u:') && !root.includes('+'));
}

/** The kind, root and day of a marker's `_id` (`<kind>|<root>|<day>`). */
export function parseMarkerId(id: string): { kind: ListKind; root: string; day: string } {
  const first = id.indexOf('|');
  const last = id.lastIndexOf('|');
  return {
    kind: id.slice(0, first) as ListKind,
    root: id.slice(first + 1, last),
    day: id.slice(last + 1),
  };
}

/** Per Beijing hour, the cases of one day: what a seal holds (`{"09": 3}`), packed as JSON. */
export type HourCounts = Record<string, number>;

/**
 * Adds a case's keys to seal counts: for each sealed root, its day's count and its hour's (from
 * the hour keys `root|dayTHH`), under the marker's `_id`. The backfill and the bench count with it.
 */
export function addSealCounts(
  into: Map<string, { count: number; hours: HourCounts }>,
  kind: ListKind,
  keys: readonly string[] | null | undefined,
): void {
  for (const key of keys ?? []) {
    const bar = key.lastIndexOf('|');
    const root = key.slice(0, bar);
    const at = key.slice(bar + 1);
    const t = at.indexOf('T');
    if (t < 0 || !isSealedRoot(root)) continue;
    const id = markerId(kind, root, at.slice(0, t));
    const entry = into.get(id) ?? { count: 0, hours: {} };
    entry.count += 1;
    const hour = at.slice(t + 1);
    entry.hours[hour] = (entry.hours[hour] ?? 0) + 1;
    into.set(id, entry);
  }
}
