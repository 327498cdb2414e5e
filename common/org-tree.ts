import type { UnitType } from '../lang/vocabulary';

/**
 * The organisation as a tree of units (county → street → community → grid → compound →
 * building → entrance → floor, plus co-building units and departments hung under the unit they
 * serve) and the people who hold roles in them. Resolution is pure: the caller loads the units
 * and posts it needs, and the same inputs always give the same people. The unit types and their
 * names are words of the definition language (lang/vocabulary.ts).
 */

export interface OrgUnit {
  id: string;
  name: string;
  type: UnitType;
  parentId: string | null;
}

/** A person's post: a role (网格员, 楼栋长, 书记…) held in a unit. */
export interface Post {
  personId: string;
  unitId: string;
  role: string;
}

/**
 * A 包联 (pairing): someone who looks after a unit without a post in it, a person (a county
 * leader pairs with a community, a cadre with a building) or a unit (a co-building unit with a
 * compound), of a kind (lang/vocabulary.ts PAIRING_KINDS), valid from and until a day (both
 * inclusive, `YYYY-MM-DD` in China time; absent: open-ended).
 */
export interface Pairing {
  unitId: string;
  kind: string;
  personId?: string | null;
  partnerUnitId?: string | null;
  validFrom?: string | null;
  validUntil?: string | null;
}

/** UTC+8: China has one time zone and no daylight saving (a pairing's days are China days). */
const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;

/** The day (`YYYY-MM-DD`) an instant falls on in China. */
export function chinaDayOf(instant: Date): string {
  return new Date(instant.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** Whether a pairing holds on a day (`YYYY-MM-DD`); undefined: any day. */
export function pairingValidOn(pairing: Pairing, day: string | undefined): boolean {
  if (day === undefined) return true;
  if (pairing.validFrom && day < pairing.validFrom) return false;
  if (pairing.validUntil && day > pairing.validUntil) return false;
  return true;
}

/**
 * Which unit, relative to a starting unit: the unit itself, its parent, or the nearest unit of a
 * type at or above it (the case's street, the county).
 */
export type UnitRelation =
  | { kind: 'self' }
  | { kind: 'parent' }
  | { kind: 'nearest'; type: UnitType }
  /** The `steps`-th unit above (1: the parent), counting only units of `types` when given. */
  | { kind: 'up'; steps: number; types?: readonly UnitType[] };

export class OrgTreeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrgTreeError';
  }
}

export class OrgTree {
  private readonly units = new Map<string, OrgUnit>();
  private readonly postsByUnit = new Map<string, Post[]>();
  private readonly pairingsByUnit = new Map<string, Pairing[]>();

  constructor(
    units: readonly OrgUnit[],
    posts: readonly Post[] = [],
    pairings: readonly Pairing[] = [],
  ) {
    for (const unit of units) {
      if (this.units.has(unit.id)) throw new OrgTreeError(`duplicate unit "${unit.id}"`);
      this.units.set(unit.id, unit);
    }
    for (const unit of units) {
      if (unit.parentId !== null && !this.units.has(unit.parentId)) {
        throw new OrgTreeError(`unit "${unit.id}" has an unknown parent "${unit.parentId}"`);
      }
      this.ancestry(unit.id); // throws on a cycle
    }
    for (const post of posts) {
      if (!this.units.has(post.unitId)) {
        throw new OrgTreeError(`post of "${post.personId}" names an unknown unit "${post.unitId}"`);
      }
      const list = this.postsByUnit.get(post.unitId) ?? [];
      list.push(post);
      this.postsByUnit.set(post.unitId, list);
    }
    // A pairing naming a unit the tree lacks is left out, not an error: the org service refuses
    // them when written, and one stale row must not stop every lookup.
    for (const pairing of pairings) {
      if (!this.units.has(pairing.unitId)) continue;
      if (pairing.partnerUnitId && !this.units.has(pairing.partnerUnitId)) continue;
      const list = this.pairingsByUnit.get(pairing.unitId) ?? [];
      list.push(pairing);
      this.pairingsByUnit.set(pairing.unitId, list);
    }
  }

  /** The pairings of exactly this unit: paired people first (by id), then paired units (by id). */
  pairingsOf(unitId: string): Pairing[] {
    const key = (p: Pairing) => (p.personId ? `0:${p.personId}` : `1:${p.partnerUnitId ?? ''}`);
    return [...(this.pairingsByUnit.get(unitId) ?? [])].sort((a, b) =>
      key(a) === key(b) ? a.kind.localeCompare(b.kind) : key(a).localeCompare(key(b)),
    );
  }

  has(id: string): boolean {
    return this.units.has(id);
  }

  /** Units where a person holds any post, in a stable order. */
  unitsOf(personId: string): string[] {
    const units: string[] = [];
    for (const [unitId, posts] of this.postsByUnit) {
      if (posts.some((p) => p.personId === personId)) units.push(unitId);
    }
    return units.sort();
  }

  /** The unit and every unit below it, parents before children. */
  descendants(id: string): OrgUnit[] {
    const children = new Map<string, OrgUnit[]>();
    for (const unit of this.units.values()) {
      if (unit.parentId === null) continue;
      const list = children.get(unit.parentId) ?? [];
      list.push(unit);
      children.set(unit.parentId, list);
    }
    const result: OrgUnit[] = [];
    const queue = [this.unit(id)];
    while (queue.length > 0) {
      const unit = queue.shift()!;
      result.push(unit);
      queue.push(...(children.get(unit.id) ?? []).sort((a, b) => a.id.localeCompare(b.id)));
    }
    return result;
  }

  unit(id: string): OrgUnit {
    const unit = this.units.get(id);
    if (!unit) throw new OrgTreeError(`unknown unit "${id}"`);
    return unit;
  }

  /** The unit and its ancestors, nearest first. */
  ancestry(id: string): OrgUnit[] {
    const chain: OrgUnit[] = [];
    const seen = new Set<string>();
    for (let unit: OrgUnit | undefined = this.unit(id); unit;) {
      if (seen.has(unit.id)) throw new OrgTreeError(`units form a cycle through "${unit.id}"`);
      seen.add(unit.id);
      chain.push(unit);
      unit = unit.parentId === null ? undefined : this.units.get(unit.parentId);
    }
    return chain;
  }

  /** Whether `id` is `ancestorId` or lies below it (org scope checks). */
  isWithin(id: string, ancestorId: string): boolean {
    return this.ancestry(id).some((u) => u.id === ancestorId);
  }

  /** The unit a relation points at from `fromId`, or null when there is none (no parent). */
  relate(fromId: string, relation: UnitRelation): OrgUnit | null {
    const chain = this.ancestry(fromId);
    switch (relation.kind) {
      case 'self':
        return chain[0]!;
      case 'parent':
        return chain[1] ?? null;
      case 'nearest':
        return chain.find((u) => u.type === relation.type) ?? null;
      case 'up': {
        const above = chain
          .slice(1)
          .filter((u) => relation.types === undefined || relation.types.includes(u.type));
        return above[relation.steps - 1] ?? null;
      }
    }
  }

  /** Every post held in exactly this unit, by role then person. */
  postsIn(unitId: string): Post[] {
    return [...(this.postsByUnit.get(unitId) ?? [])].sort(
      (a, b) => a.role.localeCompare(b.role) || a.personId.localeCompare(b.personId),
    );
  }

  /** People holding `role` in exactly this unit, in a stable order. */
  holders(unitId: string, role: string): string[] {
    return (this.postsByUnit.get(unitId) ?? [])
      .filter((p) => p.role === role)
      .map((p) => p.personId)
      .sort();
  }
}

export interface ResolvedTarget {
  unit: OrgUnit;
  people: string[];
  /** True when the post was vacant where asked and a unit above answered (兜底). */
  fellBack: boolean;
}

/**
 * Who answers for `role` at `relation` from a unit: the holders in the related unit, or, when
 * that post is vacant, in the nearest unit above it that has one (兜底). Null when no unit up to
 * the root has anyone in that role: the caller must then alert an administrator.
 */
export function resolveEscalationTarget(
  tree: OrgTree,
  fromUnitId: string,
  relation: UnitRelation,
  role: string,
): ResolvedTarget | null {
  const target = tree.relate(fromUnitId, relation);
  if (!target) return null;
  for (const unit of tree.ancestry(target.id)) {
    const people = tree.holders(unit.id, role);
    if (people.length > 0) return { unit, people, fellBack: unit.id !== target.id };
  }
  return null;
}

/** The children of each unit, to walk the tree downwards (see {@link unitsAtOrBelow}). */
export function childrenByParent(
  units: Iterable<Pick<OrgUnit, 'id' | 'parentId'>>,
): Map<string, string[]> {
  const children = new Map<string, string[]>();
  for (const unit of units) {
    if (unit.parentId === null) continue;
    const list = children.get(unit.parentId) ?? [];
    list.push(unit.id);
    children.set(unit.parentId, list);
  }
  return children;
}

/**
 * `rootIds` and every unit below them: a street's dispatcher answers for its communities, their
 * grids and so on down to the floors. A root the tree does not know is kept as itself; a cycle
 * in stored data cannot loop.
 */
export function unitsAtOrBelow(
  children: ReadonlyMap<string, readonly string[]>,
  rootIds: Iterable<string>,
): Set<string> {
  const found = new Set<string>();
  const pending = [...rootIds];
  for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
    if (found.has(id)) continue;
    found.add(id);
    for (const child of children.get(id) ?? []) pending.push(child);
  }
  return found;
}
