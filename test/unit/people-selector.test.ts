import type { OrgUnit, Post } from '../../common/org-tree';
import { OrgTree } from '../../common/org-tree';
import type { SelectionContext } from '../../common/people-selector';
import { baseOfReference, selectPeople } from '../../common/people-selector';

/** A street with two communities, each with grids; grid workers hold posts in the grids. */
const units: OrgUnit[] = [
  { id: 'street', name: '博望街道', type: 'street', parentId: null },
  { id: 'community-b', name: '西关社区', type: 'community', parentId: 'street' },
  { id: 'community-a', name: '东关社区', type: 'community', parentId: 'street' },
  { id: 'grid-b1', name: '西关第一网格', type: 'grid', parentId: 'community-b' },
  { id: 'grid-a2', name: '东关第二网格', type: 'grid', parentId: 'community-a' },
  { id: 'grid-a1', name: '东关第一网格', type: 'grid', parentId: 'community-a' },
];
const posts: Post[] = [
  { personId: 'p-zhang', unitId: 'grid-a2', role: 'grid-worker' },
  { personId: 'p-wang', unitId: 'grid-a1', role: 'grid-worker' },
  { personId: 'p-li', unitId: 'grid-b1', role: 'grid-worker' },
  { personId: 'p-wang', unitId: 'grid-b1', role: 'grid-worker' },
  { personId: 'p-secretary', unitId: 'community-a', role: 'secretary' },
  { personId: 'p-chief', unitId: 'street', role: 'secretary' },
];
const tree = new OrgTree(units, posts);
const context = (overrides: Partial<SelectionContext> = {}): SelectionContext => ({
  caseUnitId: 'grid-a1',
  assigneeUnitId: null,
  data: {},
  ...overrides,
});

describe('selecting people in the org tree', () => {
  it('when a role is asked of the case unit, then its holders answer from it', () => {
    const selected = selectPeople(tree, { role: 'grid-worker', unit: 'case' }, context());

    expect(selected.people).toEqual([{ personId: 'p-wang', unitId: 'grid-a1' }]);
    expect(selected.unit?.id).toBe('grid-a1');
    expect(selected.fellBack).toBe(false);
  });

  it('when the post is vacant where asked, then the nearest unit above that has it answers (兜底)', () => {
    const selected = selectPeople(
      tree,
      { role: 'secretary', unit: { of: 'case', at: 'self' } },
      context({ caseUnitId: 'grid-b1' }),
    );

    expect(selected.people).toEqual([{ personId: 'p-chief', unitId: 'street' }]);
    expect(selected.fellBack).toBe(true);
  });

  it('when a role is asked in every grid under the street, then people come parents first, children in id order, each once', () => {
    const selected = selectPeople(
      tree,
      { role: 'grid-worker', unitsOfType: 'grid', under: 'street' },
      context(),
    );

    expect(selected.people).toEqual([
      { personId: 'p-wang', unitId: 'grid-a1' },
      { personId: 'p-zhang', unitId: 'grid-a2' },
      { personId: 'p-li', unitId: 'grid-b1' },
    ]);
    expect(selected.unit?.id).toBe('street');
  });

  it('when a person is named, then they answer from their first post, else from the case unit', () => {
    expect(selectPeople(tree, { person: 'p-li' }, context()).people).toEqual([
      { personId: 'p-li', unitId: 'grid-b1' },
    ]);
    expect(selectPeople(tree, { person: 'p-nobody' }, context()).people).toEqual([
      { personId: 'p-nobody', unitId: 'grid-a1' },
    ]);
  });

  it('when the unit is in a field the tree does not know, then nobody is selected', () => {
    const selected = selectPeople(
      tree,
      { role: 'grid-worker', unit: { of: { field: 'grid' }, at: 'self' } },
      context({ data: { grid: 'grid-unknown' } }),
    );

    expect(selected).toEqual({ people: [], unit: null, fellBack: false });
  });
});

describe('unit references', () => {
  it("when the assignee has no unit, then `assignee` means the case's unit", () => {
    expect(baseOfReference(tree, 'assignee', context())).toEqual({
      base: 'grid-a1',
      relation: { kind: 'self' },
    });
    expect(
      baseOfReference(
        tree,
        { of: 'assignee', at: 'community' },
        context({ assigneeUnitId: 'grid-b1' }),
      ),
    ).toEqual({ base: 'grid-b1', relation: { kind: 'nearest', type: 'community' } });
  });
});
