import { childrenByParent } from './org-tree';
import type { Models } from '../models';
import { readOrgRevision } from '../models/org-revision';
import { coalescedRead } from './coalesced-read';

/** A unit as the read-side services name and place it. */
export interface SnapshotUnit {
  id: string;
  name: string;
  type: string;
  parentId: string | null;
}

/** The whole unit tree at one org revision. */
export interface OrgSnapshot {
  /** The org revision the units were read at (or later: a reader never sees less). */
  revision: number;
  byId: ReadonlyMap<string, SnapshotUnit>;
  children: ReadonlyMap<string, readonly string[]>;
  /** Units without a (known) parent: the county, usually. */
  roots: readonly string[];
}

export interface OrgSnapshotReader {
  /**
   * The unit tree as of the current org revision: one `_id` read of the revision document (sent
   * after the caller asked, shared with the callers of the same turn and those who asked while the
   * previous read was under way), and the units read again only when the revision moved since the
   * last read.
   */
  get(): Promise<OrgSnapshot>;
  /** Forgets the kept tree (the next `get` reads the units whatever the revision). */
  invalidate(): void;
}

/**
 * One in-process snapshot of the org's units (id, name, type, parent), versioned by the org
 * revision (models/org-revision.ts) that every org write bumps after writing, in any process:
 * the services' own writes and imports alike. So a unit written through any API replica is seen by
 * the very next request of every replica, and nothing is kept by time. Concurrent reloads share
 * one read; a failed read is not kept. Each API process builds one and hands it to every reader
 * (scope, the unit directory, evaluation entitlements, org imports).
 */
export function createOrgSnapshot(deps: {
  models: Pick<Models, 'Unit' | 'OrgRevision'>;
  /** The current org revision; defaults to reading it from the store. */
  revision?: () => Promise<number>;
}): OrgSnapshotReader {
  const readRevision = deps.revision ?? (() => readOrgRevision(deps.models));
  // Shared by concurrent callers, but never a read sent before the caller asked
  // (common/coalesced-read.ts): every caller sees the writes finished before it asked.
  const revisionOf = coalescedRead(readRevision);
  let kept: { revision: number; tree: Promise<OrgSnapshot> } | undefined;

  function load(revision: number): Promise<OrgSnapshot> {
    const tree = deps.models.Unit.find({}, { _id: 1, name: 1, type: 1, parentId: 1 })
      .lean()
      .then((docs) => snapshotOf(revision, docs));
    const entry = { revision, tree };
    kept = entry;
    void tree.catch(() => {
      if (kept === entry) kept = undefined;
    });
    return tree;
  }

  return {
    async get() {
      const revision = await revisionOf();
      // An equal revision reuses the kept tree, or shares the read already under way for it.
      if (kept && kept.revision === revision) return kept.tree;
      return load(revision);
    },
    invalidate() {
      kept = undefined;
    },
  };
}

/** Those of `unitIds` the tree lacks, in the order given. */
export function unitsMissingFrom(snapshot: OrgSnapshot, unitIds: readonly string[]): string[] {
  return unitIds.filter((id) => !snapshot.byId.has(id));
}

function snapshotOf(
  revision: number,
  docs: ReadonlyArray<{ _id: string; name: string; type: string; parentId?: string | null }>,
): OrgSnapshot {
  const units = docs.map((d) => ({
    id: d._id,
    name: d.name,
    type: d.type,
    parentId: d.parentId ?? null,
  }));
  const byId = new Map(units.map((u) => [u.id, u]));
  return {
    revision,
    byId,
    children: childrenByParent(units),
    roots: units.filter((u) => u.parentId === null || !byId.has(u.parentId)).map((u) => u.id),
  };
}
