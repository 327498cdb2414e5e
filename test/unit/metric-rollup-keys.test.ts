import { METRIC_FIELDS } from '../../common/case-measures';
import {
  depthOf,
  halfOf,
  monthPartOf,
  packRollupParts,
  parentsFromJson,
  parentsToJson,
  parseRollupPart,
  pathOf,
  treeAgrees,
  treeUnitsOf,
  rollupIdOf,
  rollupKeysOf,
  rollupPartOf,
  splitMonthPart,
  sumsOf,
  treeHalfRollupIdOf,
  unpackRollupParts,
} from '../../common/metric-rollup';
import {
  halvesReadWhole,
  rollupFilters,
  splitPeriod,
  subtreeFilters,
} from '../../services/metrics';

const at = (iso: string) => Date.parse(iso);

describe('metric roll-up keys and periods', () => {
  it('when a case was served by two units, one of them twice, then it is summed by place, per distinct serving unit and once for the set', () => {
    // Act
    const keys = rollupKeysOf({
      unitId: 'c1',
      createdAt: '2026-02-28T17:00:00Z', // 2026-03-01 01:00 in Beijing
      definitionKey: 'order.v2',
      category: 'road~side',
      metrics: { received: 1, month: '2026-03' },
      servedBy: { unitIds: ['x2', 'x1', 'x2'] },
    });

    // Assert
    expect(keys.map(rollupIdOf)).toEqual([
      'place|c1|2026-03',
      'served|x1|2026-03',
      'served|x2|2026-03',
      'servedSet|x1,x2|2026-03',
    ]);
    const part = rollupPartOf(keys[0]!);
    expect(part).not.toMatch(/\./);
    expect(parseRollupPart(part, '2026-03')).toEqual({
      definitionKey: 'order.v2',
      category: 'road~side',
      trendMonth: '2026-03',
    });
  });

  it('when a case nobody served yet is keyed, then it has its place key only', () => {
    // Act
    const keys = rollupKeysOf({
      unitId: 'c1',
      createdAt: '2026-03-10T00:00:00Z',
      definitionKey: 'order',
      metrics: { received: 1 },
    });

    // Assert
    expect(keys.map(rollupIdOf)).toEqual(['place|c1|2026-03']);
  });

  it('when stored figures leave zeros out or hold something else, then every metric field sums as a number', () => {
    // Act
    const sums = sumsOf({ received: 1, rated: '1', month: '2026-03', supervised: 1 });

    // Assert
    expect(Object.keys(sums)).toEqual([...METRIC_FIELDS]);
    expect(sums.received).toBe(1);
    expect(sums.rated).toBe(1);
    expect(sums.completed).toBe(0);
  });

  it('when the period is whole Beijing months, then the roll-ups serve all of it', () => {
    // Act
    const split = splitPeriod(at('2025-12-31T16:00:00Z'), at('2026-03-31T16:00:00Z'));

    // Assert
    expect(split).toEqual({ months: ['2026-01', '2026-02', '2026-03'], edges: [] });
  });

  it('when the period starts and ends inside months, then those partial months are read from the cases', () => {
    // Act
    const split = splitPeriod(at('2026-01-10T00:00:00Z'), at('2026-04-05T00:00:00Z'));

    // Assert
    expect(split).toEqual({
      months: ['2026-02', '2026-03'],
      edges: [
        [at('2026-01-10T00:00:00Z'), at('2026-01-31T16:00:00Z')],
        [at('2026-03-31T16:00:00Z'), at('2026-04-05T00:00:00Z')],
      ],
    });
  });

  it('when the period lies inside one month, then all of it is read from the cases', () => {
    // Act
    const split = splitPeriod(at('2026-03-02T00:00:00Z'), at('2026-03-20T00:00:00Z'));

    // Assert
    expect(split).toEqual({
      months: [],
      edges: [[at('2026-03-02T00:00:00Z'), at('2026-03-20T00:00:00Z')]],
    });
  });

  it('when the entries of a roll-up are packed, then zeros and empty entries are left out and unpacking gives the figures back, added to nested ones an older version stored', () => {
    // Act
    const packed = packRollupParts({
      'order~road': { ...sumsOf({ received: 2, overdue: 1 }) },
      'order~noise': sumsOf(null),
    });
    const unpacked = unpackRollupParts({
      partsJson: packed,
      parts: { 'order~road': { received: 1, completed: '1' }, 'order~water': { rated: 1 } },
    });

    // Assert
    expect(JSON.parse(packed)).toEqual([['received', 'overdue'], { 'order~road': [2, 1] }]);
    expect(unpacked).toEqual({
      'order~road': { received: 3, completed: 1, overdue: 1 },
      'order~water': { rated: 1 },
    });
    expect(unpackRollupParts({})).toEqual({});
  });

  it('when entries are packed, then the field names are written once per document, each entry an array in that order without its trailing zeros, and unpacking gives every figure back', () => {
    // Arrange: figures of every field, a field only one entry has, a zero inside a row.
    const all = sumsOf(Object.fromEntries(METRIC_FIELDS.map((field, i) => [field, i + 1])));
    const parts = {
      '2026-03|order~road': all,
      '2026-04|order~%E8%B7%AF': { ...sumsOf(null), received: 5, rated: 2, ratingScore: 9.5 },
      '2026-04|order~': { ...sumsOf(null), due: 1 },
    };

    // Act
    const packed = packRollupParts(parts);
    const [fields, entries] = JSON.parse(packed) as [string[], Record<string, number[]>];

    // Assert
    expect(fields).toEqual([...METRIC_FIELDS]);
    expect(entries['2026-03|order~road']).toEqual(METRIC_FIELDS.map((_, i) => i + 1));
    expect(entries['2026-04|order~']).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const strip = (sums: Partial<Record<string, number>>) =>
      Object.fromEntries(Object.entries(sums).filter(([, v]) => v !== 0));
    expect(unpackRollupParts({ partsJson: packed })).toEqual(
      Object.fromEntries(Object.entries(parts).map(([part, sums]) => [part, strip(sums)])),
    );
    // A half year of 4 parts (24 entries): as objects each entry names its fields, as columns
    // the document does once, a fraction of the bytes.
    const half = Object.fromEntries(
      ['01', '02', '03', '04', '05', '06'].flatMap((m) =>
        ['road', 'noise', 'water', 'other'].map((c) => [`2026-${m}|order~${c}`, all] as const),
      ),
    );
    expect(packRollupParts(half).length).toBeLessThan(JSON.stringify(half).length / 2);
  });

  it('when a document holds its entries as objects in partsJson (the version before the columns), then they are read as they are, added to nested ones', () => {
    // Arrange: partsJson as the version before the columns wrote it.
    const partsJson = JSON.stringify({
      'order~road': { received: 2, overdue: 1 },
      '2026-03|order~': { rated: 1 },
    });

    // Act
    const alone = unpackRollupParts({ partsJson });
    const withNested = unpackRollupParts({ partsJson, parts: { 'order~road': { received: 1 } } });

    // Assert
    expect(alone).toEqual({
      'order~road': { received: 2, overdue: 1 },
      '2026-03|order~': { rated: 1 },
    });
    expect(withNested).toEqual({
      'order~road': { received: 3, overdue: 1 },
      '2026-03|order~': { rated: 1 },
    });
  });

  it('when the roll-ups of a subtree are read, then each query is equalities on kind and month (and unit for a small subtree), never a month $in', () => {
    // Act
    const small = rollupFilters('place', ['c2', 'c1'], ['2026-01', '2026-02']);
    const sets = rollupFilters('servedSet', ['c1'], ['2026-01']);
    const units = Array.from({ length: 25 }, (_, i) => `u${String(i).padStart(2, '0')}`);
    const large = rollupFilters('served', units, ['2026-01', '2026-02']);

    // Assert
    expect(small).toEqual([
      { by: 'place', month: '2026-01', unitId: 'c1' },
      { by: 'place', month: '2026-01', unitId: 'c2' },
      { by: 'place', month: '2026-02', unitId: 'c1' },
      { by: 'place', month: '2026-02', unitId: 'c2' },
    ]);
    expect(sets).toEqual([{ by: 'servedSet', month: '2026-01', unitIds: 'c1' }]);
    expect(large).toEqual([
      { by: 'served', month: '2026-01', unitId: { $in: units } },
      { by: 'served', month: '2026-02', unitId: { $in: units } },
    ]);
  });

  it('when a change is keyed along the unit tree, then it goes into the subtree document of its unit and of each unit above, a set of serving units into each unit of their paths once', () => {
    // Arrange: county k, streets s1 and s2, community c1 under s1, grid g under c1; x unknown.
    const parents = new Map<string, string | null>([
      ['k', null],
      ['s1', 'k'],
      ['s2', 'k'],
      ['c1', 's1'],
      ['g', 'c1'],
    ]);

    // Act + Assert
    expect(pathOf('g', parents)).toEqual(['g', 'c1', 's1', 'k']);
    expect(pathOf('x', parents)).toEqual(['x']);
    expect([depthOf('k', parents), depthOf('g', parents)]).toEqual(['0', '3']);
    expect(treeUnitsOf({ by: 'place', unitId: 'g' }, parents)).toEqual(['g', 'c1', 's1', 'k']);
    expect(treeUnitsOf({ by: 'servedSet', unitId: null, unitIds: ['g', 's2'] }, parents)).toEqual([
      'g',
      'c1',
      's1',
      'k',
      's2',
    ]);
    // A cycle written by hand ends the path instead of looping.
    expect(
      pathOf(
        'a',
        new Map([
          ['a', 'b'],
          ['b', 'a'],
        ]),
      ),
    ).toEqual(['a', 'b']);
  });

  it('when the unit tree changes, then the subtree documents agree with it only if no unit they know moved or went', () => {
    // Arrange
    const stored = parentsFromJson(
      parentsToJson(
        new Map([
          ['k', null],
          ['g', 'k'],
        ]),
      ),
    );

    // Act + Assert
    expect(
      treeAgrees(
        stored,
        new Map([
          ['k', null],
          ['g', 'k'],
          ['new', 'k'],
        ]),
      ),
    ).toBe(true);
    expect(
      treeAgrees(
        stored,
        new Map([
          ['k', null],
          ['g', 'new'],
          ['new', 'k'],
        ]),
      ),
    ).toBe(false);
    expect(treeAgrees(stored, new Map([['k', null]]))).toBe(false);
  });

  it('when the subtree documents of some units are read, then each query is an equality: by _id for a few, by parent for the children of a unit, by depth for one level, by month for many', () => {
    // Arrange: county k, 8 streets, 64 communities.
    const units = [{ id: 'k', parentId: null as string | null }];
    for (let s = 0; s < 8; s += 1) {
      units.push({ id: `s${s}`, parentId: 'k' });
      for (let c = 0; c < 8; c += 1) units.push({ id: `s${s}c${c}`, parentId: `s${s}` });
    }
    const tree = { byId: new Map(units.map((u) => [u.id, { ...u, name: u.id, type: 'x' }])) };
    const half = ['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06'];
    const streets = units.filter((u) => u.parentId === 'k').map((u) => u.id);
    const communities = units.filter((u) => u.id.includes('c')).map((u) => u.id);

    // Act
    const month = subtreeFilters('placeTree', ['k', 's0'], ['2026-01'], tree);
    const county = subtreeFilters('placeTree', ['k', ...streets], half, tree);
    const ranking = subtreeFilters('servedTree', communities, half, tree);
    const twoYears = [2025, 2026].flatMap((y) =>
      Array.from({ length: 12 }, (_, m) => `${y}-${String(m + 1).padStart(2, '0')}`),
    );
    const year = subtreeFilters('placeTree', communities, twoYears, tree);
    const mixed = subtreeFilters('placeTree', [...streets, ...communities], twoYears, tree);

    // Assert
    expect(month).toEqual([{ _id: 'placeTree|k|2026-01' }, { _id: 'placeTree|s0|2026-01' }]);
    expect(county).toHaveLength(12);
    expect(county).toContainEqual({ by: 'placeTree', month: '2026-03', parentId: 'k' });
    expect(county).toContainEqual({ _id: 'placeTree|k|2026-03' });
    expect(ranking).toEqual(half.map((m) => ({ by: 'servedTree', month: m, depth: '2' })));
    expect(year).toHaveLength(24);
    expect(year[0]).toEqual({ by: 'placeTree', month: '2025-01', depth: '2' });
    expect(mixed).toHaveLength(24);
    expect(mixed[0]).toEqual({
      by: 'placeTree',
      month: '2025-01',
      unitId: { $in: [...streets, ...communities].sort() },
    });
  });

  it('when a period asks three months or more of a half year, then that half year is read from one period document per unit, by the same equalities', () => {
    // Arrange: county k, 8 streets, 64 communities.
    const units = [{ id: 'k', parentId: null as string | null }];
    for (let s = 0; s < 8; s += 1) {
      units.push({ id: `s${s}`, parentId: 'k' });
      for (let c = 0; c < 8; c += 1) units.push({ id: `s${s}c${c}`, parentId: `s${s}` });
    }
    const tree = { byId: new Map(units.map((u) => [u.id, { ...u, name: u.id, type: 'x' }])) };
    const streets = units.filter((u) => u.parentId === 'k').map((u) => u.id);
    const communities = units.filter((u) => u.id.includes('c')).map((u) => u.id);

    // Act
    const h1 = halvesReadWhole(['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06']);
    const quarterAndMonth = halvesReadWhole([
      '2026-05',
      '2026-06',
      '2026-07',
      '2026-08',
      '2026-09',
    ]);
    const twoMonths = halvesReadWhole(['2026-06', '2026-07']);
    const ranking = subtreeFilters('placeTree', communities, ['2026-H1'], tree, 'half');
    const county = subtreeFilters('servedIn', ['k', ...streets], ['2026-H1'], tree, 'half');
    const street = subtreeFilters('placeTree', ['s1c0', 's1c1'], ['2026-H2'], tree, 'half');

    // Assert
    expect(halfOf('2026-06')).toBe('2026-H1');
    expect(halfOf('2026-07')).toBe('2026-H2');
    expect([...h1]).toEqual(['2026-H1']);
    expect([...quarterAndMonth]).toEqual(['2026-H2']);
    expect([...twoMonths]).toEqual([]);
    // The ranking of the 64 communities: one query of one level, 64 documents (not 6 × 64).
    expect(ranking).toEqual([{ by: 'placeTreeHalf', half: '2026-H1', depth: '2' }]);
    expect(county).toHaveLength(9);
    expect(county).toContainEqual({ _id: treeHalfRollupIdOf('servedIn', 'k', '2026-H1') });
    expect(county[0]).toEqual({ _id: 'servedInHalf|k|2026-H1' });
    expect(street).toEqual([
      { _id: 'placeTreeHalf|s1c0|2026-H2' },
      { _id: 'placeTreeHalf|s1c1|2026-H2' },
    ]);
    // An entry of a period document: its month and its part (a part never holds a `|`).
    const part = rollupPartOf({
      by: 'place',
      unitId: 'g',
      month: '2026-03',
      trendMonth: '2026-04',
      definitionKey: 'a|b',
      category: 'x|y',
    });
    expect(splitMonthPart(monthPartOf('2026-03', part))).toEqual({ month: '2026-03', part });
    expect(parseRollupPart(splitMonthPart(monthPartOf('2026-03', part))!.part, '2026-03')).toEqual({
      definitionKey: 'a|b',
      category: 'x|y',
      trendMonth: '2026-04',
    });
  });
});
