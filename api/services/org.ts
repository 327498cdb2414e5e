import type { OrgUnit, UnitType } from '../../common/org-tree';
import { OrgTree, OrgTreeError } from '../../common/org-tree';
import type { Models } from '../../models';
import { AppError } from '../errors';

export interface OrgImport {
  units: Array<{ id: string; name: string; type: UnitType; parentId: string | null }>;
  people: Array<{ id: string; name: string; email?: string; phone?: string; userId?: string }>;
  posts: Array<{ unitId: string; role: string; personId: string }>;
}

export interface UnitView extends OrgUnit {
  ancestry: Array<{ id: string; name: string; type: string }>;
  posts: Array<{ role: string; personId: string; personName: string }>;
}

/**
 * The org tree as admin data. An import is checked as a whole against what is stored (unknown
 * parents, cycles, posts in unknown units or of unknown people) before anything is written;
 * writes are upserts by id, so running the same import again changes nothing.
 */
export function createOrgService(deps: { models: Models; clock: () => Date }) {
  const { Unit, Person, Post: PostModel } = deps.models;

  async function storedUnits(): Promise<OrgUnit[]> {
    const docs = await Unit.find({}).lean();
    return docs.map((d) => ({
      id: d._id,
      name: d.name,
      type: d.type as UnitType,
      parentId: d.parentId ?? null,
    }));
  }

  async function loadTree(): Promise<OrgTree> {
    const posts = await PostModel.find({}).lean();
    return new OrgTree(
      await storedUnits(),
      posts.map((p) => ({ unitId: p.unitId, role: p.role, personId: p.personId })),
    );
  }

  return {
    loadTree,

    async importOrg(input: OrgImport): Promise<{ units: number; people: number; posts: number }> {
      const merged = new Map((await storedUnits()).map((u) => [u.id, u]));
      for (const unit of input.units) merged.set(unit.id, unit);
      const knownPeople = new Set([
        ...input.people.map((p) => p.id),
        ...(
          await Person.find({ _id: { $in: input.posts.map((p) => p.personId) } }, { _id: 1 }).lean()
        ).map((p) => p._id),
      ]);
      const problems = input.posts.flatMap((post, i) =>
        knownPeople.has(post.personId)
          ? []
          : [{ path: `body.posts[${i}].personId`, message: `unknown person "${post.personId}"` }],
      );
      try {
        new OrgTree([...merged.values()], input.posts);
      } catch (err) {
        if (!(err instanceof OrgTreeError)) throw err;
        problems.push({ path: 'body', message: err.message });
      }
      if (problems.length > 0)
        throw new AppError('unprocessable', 'The import does not fit the org tree', problems);

      const now = deps.clock();
      // Parents before children, so a reader never sees a unit whose parent is missing.
      for (const unit of orderParentsFirst(input.units)) {
        await Unit.updateOne(
          { _id: unit.id },
          { $set: { name: unit.name, type: unit.type, parentId: unit.parentId, updatedAt: now } },
          { upsert: true },
        );
      }
      for (const person of input.people) {
        const { id, ...fields } = person;
        await Person.updateOne(
          { _id: id },
          { $set: { ...fields, updatedAt: now } },
          { upsert: true },
        );
      }
      for (const post of input.posts) {
        await PostModel.updateOne(
          { _id: `${post.unitId}:${post.role}:${post.personId}` },
          { $set: post },
          { upsert: true },
        );
      }
      return { units: input.units.length, people: input.people.length, posts: input.posts.length };
    },

    async listUnits(query: { parentId?: string; page: number; pageSize: number }) {
      const filter = query.parentId === undefined ? {} : { parentId: query.parentId };
      const docs = await Unit.find(filter)
        .sort({ _id: 1 })
        .skip((query.page - 1) * query.pageSize)
        .limit(query.pageSize)
        .lean();
      const total = await Unit.countDocuments(filter);
      return {
        items: docs.map((d) => ({
          id: d._id,
          name: d.name,
          type: d.type as UnitType,
          parentId: d.parentId ?? null,
        })),
        page: query.page,
        pageSize: query.pageSize,
        total,
      };
    },

    async getUnit(id: string): Promise<UnitView> {
      const tree = await loadTree();
      let unit: OrgUnit;
      try {
        unit = tree.unit(id);
      } catch {
        throw new AppError('not_found', `No unit "${id}"`);
      }
      const posts = await PostModel.find({ unitId: id }).sort({ role: 1, personId: 1 }).lean();
      const people = await Person.find(
        { _id: { $in: posts.map((p) => p.personId) } },
        { name: 1 },
      ).lean();
      const names = new Map(people.map((p) => [p._id, p.name]));
      return {
        ...unit,
        ancestry: tree
          .ancestry(id)
          .slice(1)
          .map((u) => ({ id: u.id, name: u.name, type: u.type })),
        posts: posts.map((p) => ({
          role: p.role,
          personId: p.personId,
          personName: names.get(p.personId) ?? '',
        })),
      };
    },
  };
}

export type OrgService = ReturnType<typeof createOrgService>;

function orderParentsFirst<T extends { id: string; parentId: string | null }>(units: T[]): T[] {
  const byId = new Map(units.map((u) => [u.id, u]));
  const ordered: T[] = [];
  const placed = new Set<string>();
  const place = (unit: T) => {
    if (placed.has(unit.id)) return;
    placed.add(unit.id);
    const parent = unit.parentId === null ? undefined : byId.get(unit.parentId);
    if (parent) place(parent);
    ordered.push(unit);
  };
  units.forEach(place);
  return ordered;
}
