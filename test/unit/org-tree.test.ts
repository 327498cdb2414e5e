import fc from 'fast-check';
import type { OrgUnit, Post } from '../../common/org-tree';
import {
  childrenByParent,
  OrgTree,
  OrgTreeError,
  resolveEscalationTarget,
  unitsAtOrBelow,
} from '../../common/org-tree';

/** A slice of a county: two streets, a community with a grid, compound, building and floor. */
const units: OrgUnit[] = [
  { id: 'county', name: '城固县', type: 'county', parentId: null },
  { id: 'street-a', name: '博望街道', type: 'street', parentId: 'county' },
  { id: 'street-b', name: '莲花街道', type: 'street', parentId: 'county' },
  { id: 'community-1', name: '东关社区', type: 'community', parentId: 'street-a' },
  { id: 'grid-1', name: '第一网格', type: 'grid', parentId: 'community-1' },
  { id: 'compound-1', name: '幸福小区', type: 'compound', parentId: 'grid-1' },
  { id: 'building-3', name: '3号楼', type: 'building', parentId: 'compound-1' },
  { id: 'floor-3-5', name: '3号楼5层', type: 'floor', parentId: 'building-3' },
  { id: 'hospital', name: '县医院', type: 'cobuilding', parentId: 'community-1' },
];
const posts: Post[] = [
  { personId: 'p-grid-worker', unitId: 'grid-1', role: 'grid-worker' },
  { personId: 'p-secretary', unitId: 'community-1', role: 'secretary' },
  { personId: 'p-street-chief', unitId: 'street-a', role: 'supervisor' },
  { personId: 'p-county-chief', unitId: 'county', role: 'supervisor' },
  { personId: 'p-county-deputy', unitId: 'county', role: 'supervisor' },
];
const tree = new OrgTree(units, posts);

describe('relating units', () => {
  it('when asked for self, parent or the nearest street, then the right unit answers', () => {
    expect(tree.relate('floor-3-5', { kind: 'self' })?.id).toBe('floor-3-5');
    expect(tree.relate('floor-3-5', { kind: 'parent' })?.id).toBe('building-3');
    expect(tree.relate('floor-3-5', { kind: 'nearest', type: 'street' })?.id).toBe('street-a');
    expect(tree.relate('floor-3-5', { kind: 'nearest', type: 'floor' })?.id).toBe('floor-3-5');
    expect(tree.relate('county', { kind: 'parent' })).toBeNull();
    expect(tree.relate('street-b', { kind: 'nearest', type: 'community' })).toBeNull();
  });

  it('when checking scope, then a unit is within itself and its ancestors only', () => {
    expect(tree.isWithin('floor-3-5', 'street-a')).toBe(true);
    expect(tree.isWithin('floor-3-5', 'floor-3-5')).toBe(true);
    expect(tree.isWithin('floor-3-5', 'street-b')).toBe(false);
  });
});

describe('units at or below (org scope)', () => {
  const children = childrenByParent(units);

  it('when a street is the root, then its community and everything down to the floor are included', () => {
    expect([...unitsAtOrBelow(children, ['street-a'])].sort()).toEqual([
      'building-3',
      'community-1',
      'compound-1',
      'floor-3-5',
      'grid-1',
      'hospital',
      'street-a',
    ]);
    expect([...unitsAtOrBelow(children, ['street-b'])]).toEqual(['street-b']);
  });

  it('when a root is unknown to the tree, then it still counts as itself', () => {
    expect([...unitsAtOrBelow(children, ['nowhere', 'grid-1'])].sort()).toEqual([
      'building-3',
      'compound-1',
      'floor-3-5',
      'grid-1',
      'nowhere',
    ]);
  });

  it('when stored data has a cycle, then the walk still ends', () => {
    const looped = childrenByParent([
      { id: 'a', parentId: 'b' },
      { id: 'b', parentId: 'a' },
    ]);
    expect([...unitsAtOrBelow(looped, ['a'])].sort()).toEqual(['a', 'b']);
  });

  it('for any unit and root, the unit is at or below the root exactly when isWithin says so', () => {
    const ids = units.map((u) => u.id);
    fc.assert(
      fc.property(fc.constantFrom(...ids), fc.constantFrom(...ids), (unit, root) => {
        expect(unitsAtOrBelow(children, [root]).has(unit)).toBe(tree.isWithin(unit, root));
      }),
    );
  });
});

describe('resolving escalation targets', () => {
  it('when the post is filled, then its holders answer without fallback', () => {
    expect(
      resolveEscalationTarget(tree, 'floor-3-5', { kind: 'nearest', type: 'grid' }, 'grid-worker'),
    ).toEqual({
      unit: units[4],
      people: ['p-grid-worker'],
      fellBack: false,
    });
  });

  it('when the post is vacant, then the nearest unit above with that role answers (兜底)', () => {
    const target = resolveEscalationTarget(tree, 'floor-3-5', { kind: 'parent' }, 'supervisor');
    expect(target?.unit.id).toBe('street-a');
    expect(target?.fellBack).toBe(true);
    const fromOtherStreet = resolveEscalationTarget(
      tree,
      'street-b',
      { kind: 'self' },
      'supervisor',
    );
    expect(fromOtherStreet?.people).toEqual(['p-county-chief', 'p-county-deputy']);
  });

  it('when nobody up to the root holds the role, then there is no target', () => {
    expect(resolveEscalationTarget(tree, 'hospital', { kind: 'self' }, 'mayor')).toBeNull();
  });

  it('for any unit and role, the answer is the related unit or one of its ancestors, and holds the role', () => {
    const roles = ['grid-worker', 'secretary', 'supervisor', 'nobody'];
    fc.assert(
      fc.property(
        fc.constantFrom(...units.map((u) => u.id)),
        fc.constantFrom(...roles),
        fc.constantFrom({ kind: 'self' } as const, { kind: 'parent' } as const),
        (unitId, role, relation) => {
          const related = tree.relate(unitId, relation);
          const target = resolveEscalationTarget(tree, unitId, relation, role);
          if (!target) return;
          expect(related).not.toBeNull();
          expect(tree.isWithin(related!.id, target.unit.id)).toBe(true);
          expect(target.people.length).toBeGreaterThan(0);
          expect(target.people).toEqual(tree.holders(target.unit.id, role));
        },
      ),
    );
  });
});

describe('bad trees', () => {
  it('when a tree has an unknown parent, a cycle, a duplicate or a post in an unknown unit, then it is refused by name', () => {
    expect(() => new OrgTree([{ id: 'a', name: 'A', type: 'grid', parentId: 'x' }])).toThrow(
      'unknown parent "x"',
    );
    expect(
      () =>
        new OrgTree([
          { id: 'a', name: 'A', type: 'grid', parentId: 'b' },
          { id: 'b', name: 'B', type: 'grid', parentId: 'a' },
        ]),
    ).toThrow(OrgTreeError);
    expect(() => new OrgTree([units[0]!, units[0]!])).toThrow('duplicate unit "county"');
    expect(
      () => new OrgTree([units[0]!], [{ personId: 'p', unitId: 'nowhere', role: 'r' }]),
    ).toThrow('unknown unit "nowhere"');
  });
});
