import { listDaysComplete, listDaysKeyed } from '../activities/list-days';
import type { ListKind } from '../common/list-days';
import {
  chinaDayHourOf,
  dayKey,
  HOURS_NEWEST_FIRST,
  hourKey,
  isSealedRoot,
  markerKey,
} from '../common/list-days';
import type { Models } from '../models';
import { AppError } from './errors';

/**
 * Reads a list newest first one day at a time (common/list-days.ts): for each root, the days that
 * hold its cases come from the day markers (one read per root), then each day's cases from one
 * equality on a day key, which FerretDB v1 pushes down to a GIN index; the rest of the list's
 * filter (`$in`, `$ne`, ranges, the scope) FerretDB applies to that day's rows only, and the day's
 * rows are sorted here. The walk stops when the page (and one more, to know there is a next) is
 * full. A day with more than {@link HOUR_SPLIT} cases under its roots is read hour by hour.
 */

/** Cases of a day above which it is read hour by hour (chosen: about 5 pages of 20). */
export const HOUR_SPLIT = 96;

/** Where a page ends: the sort value (ms) and the id of its last item. */
export interface ListCursor {
  at: number;
  id: string;
}

/** `<ISO instant>~<id>`: readable, and what `before` takes back. */
export function cursorText(cursor: ListCursor): string {
  return `${new Date(cursor.at).toISOString()}~${cursor.id}`;
}

/** The `before` query parameter: a 400 naming it when it is not a cursor this list gave. */
export function parseCursor(text: string): ListCursor {
  const tilde = text.indexOf('~');
  const at = tilde > 0 ? Date.parse(text.slice(0, tilde)) : NaN;
  const id = text.slice(tilde + 1);
  if (Number.isNaN(at) || id.length === 0) {
    throw new AppError('invalid_request', 'before must be the `next` of an earlier page', [
      { path: 'query.before', message: 'a cursor such as 2026-12-07T01:02:03.000Z~case-…' },
    ]);
  }
  return { at, id };
}

export interface DayWalkRequest<T> {
  kind: ListKind;
  /** The case field holding the keys: `listDays` or `boardDays`. */
  keyField: 'listDays' | 'boardDays';
  /** Roots whose cases together are every case the filter can match (duplicates are merged). */
  roots: readonly string[];
  /** The list's whole filter, as it would be asked without the walk. */
  filter: Record<string, unknown>;
  projection: Record<string, 0 | 1>;
  /** The sort instant of a document (the key's day is this instant's Beijing day). */
  sortAt: (doc: T) => number;
  idOf: (doc: T) => string;
  /** Beijing days to walk, inclusive (from the list's own date filter). */
  fromDay?: string;
  toDay?: string;
  skip: number;
  pageSize: number;
  before?: ListCursor;
  /**
   * Every case under the one root matches the filter (no filter beyond what the root implies):
   * then a deep page skips the days and hours before it by their sealed counts instead of
   * reading them (docs/metrics-at-scale.md, "Deep pages").
   */
  rootImpliesFilter?: boolean;
}

export interface DayWalkPage<T> {
  docs: T[];
  /** Exact when the walk reached the end of the list; else estimated from the day markers. */
  total: number;
  totalIsEstimate: boolean;
  /** The cursor of the next page (`before`), null on the last. */
  nextBefore: string | null;
}

/** Newest first, and by id among equals: the lists' order. */
function newestFirst<T>(sortAt: (doc: T) => number, idOf: (doc: T) => string) {
  return (a: T, b: T) =>
    sortAt(b) - sortAt(a) || (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0);
}

/** A day's exact count and count per hour, from a seal the reader may trust. */
interface SealedDay {
  count: number;
  hours: Record<string, number>;
}

export function createDayWalker(deps: {
  models: Pick<Models, 'Case' | 'ListDay' | 'ListDaySeal' | 'ListDayDirty'>;
}) {
  const { Case, ListDay, ListDaySeal, ListDayDirty } = deps.models;

  /**
   * The seals of a root's days that still count every case: the marker carries the stamp the seal
   * was counted under (no case stamped it since) and no dirty mark is pending for the day.
   */
  async function trustedSeals(
    kind: ListKind,
    root: string,
    stamps: ReadonlyMap<string, string | undefined>,
  ): Promise<Map<string, SealedDay>> {
    const key = markerKey(kind, root);
    const [seals, dirty] = await Promise.all([
      ListDaySeal.find({ key }, { day: 1, stamp: 1, count: 1, hoursJson: 1 }).lean(),
      ListDayDirty.find({ key }, { day: 1 }).lean(),
    ]);
    const pending = new Set(dirty.map((d) => d.day));
    const trusted = new Map<string, SealedDay>();
    for (const seal of seals) {
      if (pending.has(seal.day) || stamps.get(seal.day) !== seal.stamp) continue;
      trusted.set(seal.day, {
        count: seal.count,
        hours: JSON.parse(seal.hoursJson) as Record<string, number>,
      });
    }
    return trusted;
  }
  // Once complete, always complete: the mark is read until it is seen, then kept.
  let complete = false;
  let keyed = false;

  return {
    /** Whether every case carries its keys (else the caller reads the old way). */
    async ready(): Promise<boolean> {
      if (!complete) complete = await listDaysComplete(deps.models);
      return complete;
    },

    /** Whether every case carries its keyed roots' keys too (common/list-days.ts, rare filters). */
    async keyed(): Promise<boolean> {
      if (!keyed) keyed = await listDaysKeyed(deps.models);
      return keyed;
    },

    async page<T>(request: DayWalkRequest<T>): Promise<DayWalkPage<T>> {
      const { kind, keyField, filter, projection, sortAt, idOf, before } = request;
      const roots = [...new Set(request.roots)];
      // Which days hold cases of each root, and how many (one read per root).
      const days = new Map<string, { count: number; roots: string[] }>();
      const stamps = new Map<string, string | undefined>();
      for (const root of roots) {
        const markers = await ListDay.find(
          { key: markerKey(kind, root) },
          { day: 1, count: 1, stamp: 1 },
        ).lean();
        for (const marker of markers) {
          const entry = days.get(marker.day) ?? { count: 0, roots: [] };
          entry.count += marker.count ?? 0;
          entry.roots.push(root);
          days.set(marker.day, entry);
          stamps.set(marker.day, marker.stamp ?? undefined);
        }
      }
      // Skipping by counts: one root whose cases all match, and a page that starts deeper.
      const sealed =
        request.rootImpliesFilter === true &&
        roots.length === 1 &&
        isSealedRoot(roots[0]!) &&
        request.skip > 0
          ? await trustedSeals(kind, roots[0]!, stamps)
          : new Map<string, SealedDay>();
      const beforeDay = before ? beijingDay(before.at) : undefined;
      const walk = [...days.keys()]
        .filter(
          (day) =>
            (request.fromDay === undefined || day >= request.fromDay) &&
            (request.toDay === undefined || day <= request.toDay) &&
            (beforeDay === undefined || day <= beforeDay),
        )
        .sort()
        .reverse();
      const order = newestFirst(sortAt, idOf);
      const isAfterCursor = (doc: T) =>
        !before || sortAt(doc) < before.at || (sortAt(doc) === before.at && idOf(doc) > before.id);
      const wanted = request.skip + request.pageSize + 1;
      const found: T[] = [];
      // Cases before the page passed over by their sealed counts, never read.
      let skipped = 0;
      const position = () => skipped + found.length;
      let walked = 0;
      let fullDaysCount = 0;
      let fullDaysMatched = 0;
      for (const day of walk) {
        const entry = days.get(day)!;
        // The cursor's own day holds cases on both sides of it: never skipped by its count.
        const seal = day === beforeDay ? undefined : sealed.get(day);
        if (seal && position() + seal.count <= request.skip) {
          skipped += seal.count;
          walked += 1;
          fullDaysCount += seal.count;
          fullDaysMatched += seal.count;
          continue;
        }
        const byHour = (seal?.count ?? entry.count) > HOUR_SPLIT;
        const buckets: Array<{ keyOf: (root: string) => string; count?: number }> = byHour
          ? HOURS_NEWEST_FIRST.filter((hour) => !seal || (seal.hours[hour] ?? 0) > 0).map(
              (hour) => ({
                keyOf: (root: string) => hourKey(root, day, hour),
                ...(seal ? { count: seal.hours[hour] ?? 0 } : {}),
              }),
            )
          : [{ keyOf: (root: string) => dayKey(root, day) }];
        const foundBefore = found.length;
        const skippedBefore = skipped;
        let partial = false;
        for (const [b, { keyOf, count }] of buckets.entries()) {
          if (count !== undefined && position() + count <= request.skip) {
            skipped += count;
            continue;
          }
          const seen = new Map<string, T>();
          for (const root of entry.roots) {
            const docs = (await Case.find(
              { ...filter, [keyField]: keyOf(root) },
              projection,
            ).lean()) as unknown as T[];
            for (const doc of docs) seen.set(idOf(doc), doc);
          }
          found.push(...[...seen.values()].filter(isAfterCursor).sort(order));
          if (position() >= wanted && b < buckets.length - 1) {
            partial = true;
            break;
          }
        }
        walked += 1;
        if (!partial) {
          fullDaysCount += seal?.count ?? entry.count;
          fullDaysMatched += found.length - foundBefore + (skipped - skippedBefore);
        }
        if (position() >= wanted) break;
      }
      const exhausted = walked === walk.length && position() < wanted;
      const from = request.skip - skipped;
      const pageDocs = found.slice(from, from + request.pageSize);
      const last = pageDocs[pageDocs.length - 1];
      const nextBefore =
        found.length > from + request.pageSize && last
          ? cursorText({ at: sortAt(last), id: idOf(last) })
          : null;
      if (exhausted) {
        return { docs: pageDocs, total: position(), totalIsEstimate: false, nextBefore };
      }
      // The markers count every case of a root's day; the share the filter keeps is taken from
      // the whole days walked (all of them, when none was walked whole).
      const allCount = walk.reduce((sum, day) => sum + days.get(day)!.count, 0);
      const share = fullDaysCount > 0 ? fullDaysMatched / fullDaysCount : 1;
      const total = Math.max(position(), Math.round(allCount * Math.min(1, share)));
      return { docs: pageDocs, total, totalIsEstimate: true, nextBefore };
    },
  };
}

export type DayWalker = ReturnType<typeof createDayWalker>;

function beijingDay(at: number): string {
  return chinaDayHourOf(new Date(at)).day;
}

/** The Beijing days of a createdAt range (`$gte` inclusive, `$lt` exclusive), for the walk. */
export function daysOfRange(range: { $gte?: Date; $lt?: Date } | undefined): {
  fromDay?: string;
  toDay?: string;
} {
  return {
    ...(range?.$gte ? { fromDay: beijingDay(range.$gte.getTime()) } : {}),
    ...(range?.$lt ? { toDay: beijingDay(range.$lt.getTime() - 1) } : {}),
  };
}
