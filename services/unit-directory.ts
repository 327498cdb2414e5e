import type { Models } from '../models';
import type { OrgSnapshot, OrgSnapshotReader, SnapshotUnit } from '../common/org-snapshot';
import { createOrgSnapshot } from '../common/org-snapshot';

/** A unit as the read-side services name and place it. */
export type DirectoryUnit = SnapshotUnit;

/** The whole unit tree, for naming units and rolling figures up along it. */
export type UnitDirectory = OrgSnapshot;

export interface UnitDirectoryReader {
  /** The tree as of the current org revision (see org-snapshot.ts). */
  get(): Promise<UnitDirectory>;
  /**
   * The tree, as {@link get}. Kept for callers that name the unit they look for: the snapshot
   * follows the org revision, so a unit added since the last read is in it already.
   */
  knowing(unitId: string | undefined): Promise<UnitDirectory>;
}

/**
 * The unit tree (ids, names, types, parents) for the metrics, the public board and the points
 * reports: the process's org snapshot when given one (server.ts shares one), else one of its own
 * over `models`. Renames, moves and new units show on the very next request.
 */
export function createUnitDirectory(deps: {
  models: Pick<Models, 'Unit' | 'OrgRevision'>;
  snapshot?: OrgSnapshotReader;
  /** Unused since the tree follows the org revision; accepted so older callers still compile. */
  clock?: () => Date;
}): UnitDirectoryReader {
  const snapshot = deps.snapshot ?? createOrgSnapshot({ models: deps.models });
  return {
    get: () => snapshot.get(),
    knowing: () => snapshot.get(),
  };
}
