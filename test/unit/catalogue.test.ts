import type { CatalogueEntry, CatalogueRevisionView } from '../../common/catalogue';
import {
  catalogueProblems,
  coveringOwner,
  findEntry,
  selectByCatalogue,
} from '../../common/catalogue';
import type { OrgUnit, Post } from '../../common/org-tree';
import { OrgTree } from '../../common/org-tree';

/** A county with a department, a street with its centre and a department, two communities. */
const units: OrgUnit[] = [
  { id: 'county', name: '城固县', type: 'county', parentId: null },
  { id: 'dept-water', name: '县水务局', type: 'department', parentId: 'county' },
  { id: 'street-a', name: '博望街道', type: 'street', parentId: 'county' },
  { id: 'street-b', name: '龙头镇', type: 'street', parentId: 'county' },
  { id: 'dept-city-a', name: '街道城管科', type: 'department', parentId: 'street-a' },
  { id: 'community-a', name: '东关社区', type: 'community', parentId: 'street-a' },
  { id: 'community-b', name: '西关社区', type: 'community', parentId: 'street-b' },
];
const posts: Post[] = [
  { personId: 'p-water', unitId: 'dept-water', role: 'leader' },
  { personId: 'p-city', unitId: 'dept-city-a', role: 'leader' },
  { personId: 'p-centre-a', unitId: 'street-a', role: 'dispatcher' },
  { personId: 'p-county-leader', unitId: 'county', role: 'leader' },
];
const tree = new OrgTree(units, posts);

const countyCatalogue: CatalogueRevisionView = {
  ownerUnitId: 'county',
  revision: 3,
  entries: [
    { category: 'water', unitId: 'dept-water' },
    { category: 'sanitation', unitId: 'dept-water' },
  ],
};
const streetCatalogue: CatalogueRevisionView = {
  ownerUnitId: 'street-a',
  revision: 1,
  entries: [{ category: 'sanitation', unitId: 'dept-city-a' }],
};
const context = (caseUnitId: string | null) => ({ caseUnitId, assigneeUnitId: null, data: {} });

describe('checking a dispatch catalogue', () => {
  const knows = (id: string) => tree.has(id);

  it('when entries are well formed, then there is no problem', () => {
    const entries: CatalogueEntry[] = [
      { category: 'water', unitId: 'dept-water', coUnitIds: ['street-a'] },
      { category: 'water', subcategory: 'pipe burst', unitId: 'dept-water' },
    ];

    expect(catalogueProblems(entries, knows)).toEqual([]);
  });

  it('when a category is empty, listed twice or names an unknown unit, then each problem names its entry and field', () => {
    const entries: CatalogueEntry[] = [
      { category: 'water', unitId: 'dept-water' },
      { category: '  ', unitId: 'dept-water' },
      { category: 'water ', unitId: 'dept-gone' },
      { category: 'roads', unitId: 'dept-water', coUnitIds: ['nowhere', 'dept-water'] },
    ];

    expect(catalogueProblems(entries, knows)).toEqual([
      { index: 1, field: 'category', message: 'the category is empty' },
      { index: 2, field: 'category', message: 'category "water" is already listed by entry 1' },
      { index: 2, field: 'unitId', message: 'unknown unit "dept-gone"' },
      { index: 3, field: 'coUnitIds', message: 'unknown unit "nowhere"' },
      {
        index: 3,
        field: 'coUnitIds',
        message: 'unit "dept-water" is already the responsible unit',
      },
    ]);
  });
});

describe('finding the catalogue and entry for a case', () => {
  it('when a street and its county both keep a catalogue, then the street’s covers its communities and the county’s the others', () => {
    const owners = new Set(['county', 'street-a']);

    expect(coveringOwner(tree, 'community-a', owners)).toBe('street-a');
    expect(coveringOwner(tree, 'community-b', owners)).toBe('county');
    expect(coveringOwner(tree, null, owners)).toBe('county');
    expect(coveringOwner(tree, 'community-b', new Set(['street-a']))).toBeNull();
  });

  it('when a subcategory has its own entry, then it wins over the category’s; otherwise the category’s answers', () => {
    const entries: CatalogueEntry[] = [
      { category: 'water', unitId: 'dept-water' },
      { category: 'water', subcategory: 'pipe burst', unitId: 'dept-city-a' },
    ];

    expect(findEntry(entries, 'water', 'pipe burst')?.unitId).toBe('dept-city-a');
    expect(findEntry(entries, 'water', 'meter')?.unitId).toBe('dept-water');
    expect(findEntry(entries, ' water ')?.unitId).toBe('dept-water');
    expect(findEntry(entries, 'roads')).toBeNull();
  });
});

describe('selecting people by the dispatch catalogue', () => {
  it('when the covering catalogue lists the category, then the role in its responsible unit answers', () => {
    const selected = selectByCatalogue(
      tree,
      'leader',
      { catalogue: { category: 'sanitation' } },
      context('community-a'),
      streetCatalogue,
    );

    expect(selected.people).toEqual([{ personId: 'p-city', unitId: 'dept-city-a' }]);
    expect(selected.routing).toEqual({
      category: 'sanitation',
      ownerUnitId: 'street-a',
      revision: 1,
      unitId: 'dept-city-a',
      otherwise: false,
    });
  });

  it('when no entry covers the category, then otherwise answers with its own role (兜底 to the street centre)', () => {
    const selected = selectByCatalogue(
      tree,
      'leader',
      {
        catalogue: { category: 'noise' },
        otherwise: { role: 'dispatcher', unit: 'street' },
      },
      context('community-a'),
      countyCatalogue,
    );

    expect(selected.people).toEqual([{ personId: 'p-centre-a', unitId: 'street-a' }]);
    expect(selected.routing).toMatchObject({ category: 'noise', unitId: null, otherwise: true });
  });

  it('when otherwise is a unit reference, then the same role is asked there; without otherwise nobody answers', () => {
    const sameRole = selectByCatalogue(
      tree,
      'leader',
      { catalogue: { category: null }, otherwise: 'county' },
      context('community-b'),
      countyCatalogue,
    );
    const nobody = selectByCatalogue(
      tree,
      'leader',
      { catalogue: { category: 'noise' } },
      context('community-b'),
      null,
    );

    expect(sameRole.people).toEqual([{ personId: 'p-county-leader', unitId: 'county' }]);
    expect(nobody.people).toEqual([]);
    expect(nobody.routing).toEqual({
      category: 'noise',
      ownerUnitId: null,
      revision: null,
      unitId: null,
      otherwise: true,
    });
  });
});
