import type { OrgUnit, Pairing, Post } from '../../common/org-tree';
import { chinaDayOf, OrgTree } from '../../common/org-tree';
import type { SelectionContext } from '../../common/people-selector';
import { selectPeople } from '../../common/people-selector';
import { validateDefinition } from '../../lang/check';
import { createMailRenderer } from '../../mail/renderer';

/**
 * 包联 and 层层传达 selectors (common/people-selector.ts): who `pairedWith` a unit means (kinds,
 * periods, paired units' liaisons, `andBelow`), who `chain: down` means (level by level, type
 * limits, vacant posts), and the checker's messages for them.
 */

/** County → street → community → grid → compound → building → entrance → floor, plus a 共建 unit. */
const units: OrgUnit[] = [
  { id: 'county', name: '西乡县', type: 'county', parentId: null },
  { id: 'street', name: '城北街道', type: 'street', parentId: 'county' },
  { id: 'community', name: '东风社区', type: 'community', parentId: 'street' },
  { id: 'grid', name: '第一网格', type: 'grid', parentId: 'community' },
  { id: 'compound', name: '幸福小区', type: 'compound', parentId: 'grid' },
  { id: 'building-2', name: '2号楼', type: 'building', parentId: 'compound' },
  { id: 'building-1', name: '1号楼', type: 'building', parentId: 'compound' },
  { id: 'entrance-1', name: '1单元', type: 'entrance', parentId: 'building-1' },
  { id: 'floor-1', name: '1层', type: 'floor', parentId: 'entrance-1' },
  { id: 'floor-2', name: '2层', type: 'floor', parentId: 'entrance-1' },
  { id: 'hospital', name: '县医院', type: 'cobuilding', parentId: 'county' },
  { id: 'school', name: '一中', type: 'cobuilding', parentId: 'county' },
];
const posts: Post[] = [
  { personId: 'p-secretary', unitId: 'community', role: 'secretary' },
  { personId: 'p-member', unitId: 'community', role: 'committee-member' },
  { personId: 'p-grid', unitId: 'grid', role: 'grid-worker' },
  { personId: 'p-head-2', unitId: 'building-2', role: 'building-head' },
  { personId: 'p-head-1', unitId: 'building-1', role: 'building-head' },
  { personId: 'p-entrance', unitId: 'entrance-1', role: 'entrance-head' },
  { personId: 'p-floor-2', unitId: 'floor-2', role: 'floor-head' },
  // floor-1 has no 楼层长: a vacant post
  { personId: 'p-liaison', unitId: 'hospital', role: 'liaison' },
  { personId: 'p-hospital-secretary', unitId: 'hospital', role: 'secretary' },
  // the school has no liaison: a paired unit with the role vacant
];
const pairings: Pairing[] = [
  { unitId: 'community', kind: 'leader', personId: 'p-county-leader' },
  { unitId: 'compound', kind: 'cadre', personId: 'p-cadre-b' },
  { unitId: 'compound', kind: 'cadre', personId: 'p-cadre-a', validFrom: '2026-03-01' },
  { unitId: 'compound', kind: 'cadre', personId: 'p-cadre-old', validUntil: '2025-12-31' },
  { unitId: 'compound', kind: 'unit', partnerUnitId: 'school' },
  { unitId: 'compound', kind: 'unit', partnerUnitId: 'hospital' },
  { unitId: 'building-1', kind: 'cadre', personId: 'p-cadre-building' },
  // the same cadre on the compound and a building: called once, for the compound
  { unitId: 'building-2', kind: 'cadre', personId: 'p-cadre-b' },
  { unitId: 'no-such-unit', kind: 'cadre', personId: 'p-stale' },
];
const tree = new OrgTree(units, posts, pairings);
const context = (overrides: Partial<SelectionContext> = {}): SelectionContext => ({
  caseUnitId: 'compound',
  assigneeUnitId: null,
  data: {},
  today: '2026-06-15',
  ...overrides,
});
const ids = (selected: { people: Array<{ personId: string }> }) =>
  selected.people.map((p) => p.personId);

describe('pairedWith: the people paired with a unit (包联)', () => {
  it('when cadres are asked of the compound, then those in their period answer for it, in id order', () => {
    const selected = selectPeople(tree, { pairedWith: 'case', kind: 'cadre' }, context());

    expect(selected.people).toEqual([
      { personId: 'p-cadre-a', unitId: 'compound' },
      { personId: 'p-cadre-b', unitId: 'compound' },
    ]);
    expect(selected.unit?.id).toBe('compound');
    expect(selected.fellBack).toBe(false);
  });

  it('when the day is before a period starts or after it ends, then that pairing does not count', () => {
    expect(
      ids(
        selectPeople(tree, { pairedWith: 'case', kind: 'cadre' }, context({ today: '2026-02-28' })),
      ),
    ).toEqual(['p-cadre-b']);
    expect(
      ids(
        selectPeople(tree, { pairedWith: 'case', kind: 'cadre' }, context({ today: '2025-12-31' })),
      ),
    ).toEqual(['p-cadre-b', 'p-cadre-old']);
    expect(
      ids(
        selectPeople(tree, { pairedWith: 'case', kind: 'cadre' }, context({ today: '2026-03-01' })),
      ),
    ).toEqual(['p-cadre-a', 'p-cadre-b']);
  });

  it('when paired units are asked, then each answers with its liaisons, and one without a liaison with nobody', () => {
    const selected = selectPeople(tree, { pairedWith: 'case', kind: 'unit' }, context());

    expect(selected.people).toEqual([{ personId: 'p-liaison', unitId: 'hospital' }]);
  });

  it('when a role is named, then the paired units answer with that role instead', () => {
    const selected = selectPeople(
      tree,
      { pairedWith: 'case', kind: 'unit', role: 'secretary' },
      context(),
    );

    expect(ids(selected)).toEqual(['p-hospital-secretary']);
  });

  it('when no kind is given, then people paired in person come first, then the paired units’ liaisons', () => {
    const selected = selectPeople(tree, { pairedWith: 'case' }, context());

    expect(ids(selected)).toEqual(['p-cadre-a', 'p-cadre-b', 'p-liaison']);
  });

  it('when andBelow is set, then the buildings’ cadres are called too, each person once, for the highest unit', () => {
    const selected = selectPeople(
      tree,
      { pairedWith: 'case', kind: ['cadre'], andBelow: true },
      context(),
    );

    expect(selected.people).toEqual([
      { personId: 'p-cadre-a', unitId: 'compound' },
      { personId: 'p-cadre-b', unitId: 'compound' },
      { personId: 'p-cadre-building', unitId: 'building-1' },
    ]);
  });

  it('when the unit has no pairing of the kind, then nobody answers: no 兜底 to the community’s leader', () => {
    const selected = selectPeople(
      tree,
      { pairedWith: 'case', kind: 'leader' },
      context({ caseUnitId: 'grid' }),
    );

    expect(selected.people).toEqual([]);
    expect(selected.unit?.id).toBe('grid');
  });

  it('when the reference is a unit type, then the pairings of the case’s nearest unit of that type answer', () => {
    const selected = selectPeople(tree, { pairedWith: 'community', kind: 'leader' }, context());

    expect(selected.people).toEqual([{ personId: 'p-county-leader', unitId: 'community' }]);
  });

  it('when no day is given (the process guide), then every pairing counts whatever its period', () => {
    const selected = selectPeople(
      tree,
      { pairedWith: 'case', kind: 'cadre' },
      context({ today: undefined }),
    );

    expect(ids(selected)).toEqual(['p-cadre-a', 'p-cadre-b', 'p-cadre-old']);
  });

  it('when an instant is late in the evening UTC, then its China day is the next day', () => {
    expect(chinaDayOf(new Date('2026-02-28T16:30:00Z'))).toBe('2026-03-01');
    expect(chinaDayOf(new Date('2026-02-28T15:59:59Z'))).toBe('2026-02-28');
  });
});

describe('chain: down (层层传达)', () => {
  it('when a role is sent down from the community, then every unit below answers level by level, the community itself not', () => {
    const selected = selectPeople(
      tree,
      { role: 'building-head', chain: 'down', under: 'community' },
      context(),
    );

    // building-1 before building-2: a level's units in id order under their parent
    expect(selected.people).toEqual([
      { personId: 'p-head-1', unitId: 'building-1' },
      { personId: 'p-head-2', unitId: 'building-2' },
    ]);
    expect(selected.unit?.id).toBe('community');
  });

  it('when unit types limit the chain, then only those levels answer, and a vacant floor post is nobody', () => {
    const heads = selectPeople(
      tree,
      { role: 'floor-head', chain: 'down', under: 'compound', unitTypes: ['floor'] },
      context(),
    );
    const none = selectPeople(
      tree,
      { role: 'building-head', chain: 'down', under: 'compound', unitTypes: ['floor', 'entrance'] },
      context(),
    );

    expect(heads.people).toEqual([{ personId: 'p-floor-2', unitId: 'floor-2' }]);
    expect(none.people).toEqual([]);
  });

  it('when every level of the seven-level system is asked from the county, then each post is found at its level', () => {
    const at = (role: string) =>
      ids(selectPeople(tree, { role, chain: 'down', under: 'county' }, context()));

    expect(at('committee-member')).toEqual(['p-member']);
    expect(at('grid-worker')).toEqual(['p-grid']);
    expect(at('building-head')).toEqual(['p-head-1', 'p-head-2']);
    expect(at('entrance-head')).toEqual(['p-entrance']);
    expect(at('floor-head')).toEqual(['p-floor-2']);
  });
});

describe('the checker on pairing and chain selectors', () => {
  const renderer = createMailRenderer();
  const notify = (to: unknown) => ({
    key: 'notice-test',
    name: '通知',
    starters: ['admin'],
    input: { fields: [] },
    steps: [
      { id: 'tell', name: '传达', type: 'notify', template: 'case-update', to },
      { id: 'done', name: '结束', type: 'end' },
    ],
  });
  const problemsOf = (raw: unknown) => {
    const result = validateDefinition(raw, { knownTemplates: renderer.templateNames });
    return result.ok ? [] : result.problems;
  };

  it('when the selectors are well formed, then the definition is valid', () => {
    expect(
      problemsOf(
        notify([
          { pairedWith: 'case', kind: ['cadre', 'unit'], andBelow: true },
          { pairedWith: 'community', kind: 'leader' },
          { role: 'floor-head', chain: 'down', unitTypes: ['floor'] },
          { role: 'committee-member', unit: 'community' },
        ]),
      ),
    ).toEqual([]);
  });

  it('when a pairing kind is misspelt, then it is named with the nearest kind', () => {
    expect(problemsOf(notify([{ pairedWith: 'case', kind: 'cader' }]))).toEqual([
      expect.objectContaining({
        path: 'steps[0].to[0].kind',
        message:
          'unknown pairing kind "cader": did you mean "cadre"? (the kinds are leader, unit, cadre)',
      }),
    ]);
  });

  it('when a chain names an unknown role or a type twice, then each is named, the role with the nearest one', () => {
    const problems = problemsOf(
      notify([{ role: 'floor-haed', chain: 'down', unitTypes: ['floor', 'floor'] }]),
    );

    expect(problems).toEqual([
      expect.objectContaining({
        path: 'steps[0].to[0].role',
        message: expect.stringContaining('did you mean "floor-head"?') as string,
      }),
      expect.objectContaining({
        path: 'steps[0].to[0].unitTypes[1]',
        message: 'unit type "floor" is listed twice',
      }),
    ]);
  });

  it('when a chain goes up or a selector is malformed, then the field of that selector is named', () => {
    expect(problemsOf(notify([{ role: 'floor-head', chain: 'up' }]))).toEqual([
      expect.objectContaining({
        path: 'steps[0].to[0].chain',
        message: 'a chain goes down: chain: down',
      }),
    ]);
    expect(problemsOf(notify([{ pairedWith: 'nowhere', kind: 'cadre' }]))).toEqual([
      expect.objectContaining({ path: 'steps[0].to[0].pairedWith' }),
    ]);
    expect(problemsOf(notify({ role: 'floor-head', chain: 'down', unitTypes: ['flor'] }))).toEqual([
      expect.objectContaining({ path: 'steps[0].to.unitTypes[0]' }),
    ]);
  });
});
