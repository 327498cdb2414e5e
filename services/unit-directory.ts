import { childrenByParent } from '../common/org-tree';
import type { Models } from '../models';

/** A unit as the read-side services name and place it. */
export interface DirectoryUnit {
  id: string;
  name: string;
  type: string;
  parentId: string | null;
}

/** The whole unit tree, for naming units and rolling figures up along it. */
export interface UnitDirectory {
  byId: ReadonlyMap<string, DirectoryUnit>;
  children: ReadonlyMap<string, readonly string[]>;
  /** Units without a (known) parent: the county, usually. */
  roots: readonly string[];
}

export interface UnitDirectoryReader {
  /** The tree, read at most once every TTL (concurrent callers share one read). */
  get(): Promise<UnitDirectory>;
  /** The tree, read again first when it does not know `unitId` yet (a unit added since). */
  knowing(unitId: string | undefined): Promise<UnitDirectory>;
}

/**
 * One cached read of the unit tree (ids, names, types, parents) for the metrics, the public
 * board and the points reports. Renames and moves show within `ttlMs` (default 30 s, as the
 * scope resolver's); a unit asked for by id that the cached tree lacks is read at once.
 */
export function createUnitDirectory(deps: {
  models: Pick<Models, 'Unit'>;
  clock: () => Date;
  ttlMs?: number;
}): UnitDirectoryReader {
  const ttlMs = deps.ttlMs ?? 30_000;
  let cached: { loadedAt: number; tree: Promise<UnitDirectory> } | undefined;

  function get(): Promise<UnitDirectory> {
    const now = deps.clock().getTime();
    if (cached && now - cached.loadedAt < ttlMs) return cached.tree;
    const loading = deps.models.Unit.find({}, { _id: 1, name: 1, type: 1, parentId: 1 })
      .lean()
      .then((docs) => {
        const units = docs.map((d) => ({
          id: d._id,
          name: d.name,
          type: d.type,
          parentId: d.parentId ?? null,
        }));
        const byId = new Map(units.map((u) => [u.id, u]));
        return {
          byId,
          children: childrenByParent(units),
          roots: units.filter((u) => u.parentId === null || !byId.has(u.parentId)).map((u) => u.id),
        };
      });
    const entry = { loadedAt: now, tree: loading };
    cached = entry;
    // A failed read is not kept.
    void loading.catch(() => {
      if (cached === entry) cached = undefined;
    });
    return loading;
  }

  return {
    get,
    async knowing(unitId) {
      const tree = await get();
      if (unitId === undefined || tree.byId.has(unitId)) return tree;
      cached = undefined;
      return get();
    },
  };
}
