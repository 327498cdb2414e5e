import type { ResultsInput } from '../../common/evaluation';
import {
  assessmentRecordsOf,
  assessmentTable,
  computeRoundResults,
  resultsTable,
} from '../../common/evaluation';

/**
 * 评单 results attributed to who served each order (issue 16): per serving unit (co-building
 * unit, department, grid…) and per serving person (party member, volunteer…), as well as per
 * place; in the JSON and in the CSV's rows.
 */

const criteria = [{ id: 'quality', name: '服务质量' }];
const groups = [
  { id: 'residents', name: '被服务居民', weight: 60 },
  { id: 'units', name: '共建单位', weight: 40 },
];

function input(overrides: Partial<ResultsInput> = {}): ResultsInput {
  return {
    rootUnitId: 's',
    criteria,
    groups,
    orderRatingGroup: null,
    units: [
      { id: 's', name: '街道', type: 'street', parentId: null },
      { id: 'c1', name: '甲社区', type: 'community', parentId: 's' },
      { id: 'cb', name: '县医院', type: 'cobuilding', parentId: 's' },
      { id: 'dep', name: '城管局', type: 'department', parentId: 's' },
    ],
    items: [
      {
        itemId: 'o1',
        unitId: 'c1',
        definitionKey: 'three-orders',
        rating: null,
        servedUnitIds: ['cb'],
        servedPersonIds: ['p-a'],
      },
      {
        itemId: 'o2',
        unitId: 'c1',
        definitionKey: 'three-orders',
        rating: null,
        servedUnitIds: ['cb', 'dep'],
        servedPersonIds: ['p-a', 'p-b'],
      },
      // Nobody recorded as serving it (an older case): counted for the place only.
      { itemId: 'o3', unitId: 'c1', definitionKey: 'grid-event', rating: null },
    ],
    scores: [
      { itemId: 'o1', group: 'residents', values: { quality: 5 } },
      { itemId: 'o2', group: 'residents', values: { quality: 3 } },
      { itemId: 'o2', group: 'units', values: { quality: 4 } },
      { itemId: 'o3', group: 'residents', values: { quality: 1 } },
    ],
    responsible: [{ personId: 'p-s', name: '街道书记', unitId: 's' }],
    servedPeople: [
      { personId: 'p-a', name: '党员甲' },
      { personId: 'p-b', name: '党员乙' },
    ],
    ...overrides,
  };
}

describe('computeRoundResults: who served', () => {
  it('when orders name their serving units and people, then each is scored on the orders it served, wherever filed', () => {
    // Arrange
    const given = input();

    // Act
    const results = computeRoundResults(given);

    // Assert: o1 5; o2 3×60 + 4×40 over 100 = 3.4; best score first.
    expect(
      results.servedUnits!.map((u) => [u.unitId, u.name, u.type, u.parentName, u.items, u.score]),
    ).toEqual([
      ['cb', '县医院', 'cobuilding', '街道', 2, 4.2],
      ['dep', '城管局', 'department', '街道', 1, 3.4],
    ]);
    expect(results.servedPeople!.map((p) => [p.personId, p.name, p.items, p.score])).toEqual([
      ['p-a', '党员甲', 2, 4.2],
      ['p-b', '党员乙', 1, 3.4],
    ]);
    // The place still answers for every order, served or not: (5 + 3.4 + 1) / 3 = 3.13.
    expect(results.secretaries.map((s) => [s.name, s.items, s.score])).toEqual([
      ['街道书记', 3, 3.13],
    ]);
    expect(results.items.map((i) => [i.itemId, i.servedUnitIds, i.servedPersonIds])).toEqual([
      ['o1', ['cb'], ['p-a']],
      ['o2', ['cb', 'dep'], ['p-a', 'p-b']],
      ['o3', [], []],
    ]);
  });

  it('when a serving unit or person is not in the tree or the directory, then it is listed by id', () => {
    // Arrange
    const given = input({
      items: [
        {
          itemId: 'o1',
          unitId: 'c1',
          definitionKey: 'three-orders',
          rating: null,
          servedUnitIds: ['gone'],
          servedPersonIds: ['p-gone'],
        },
      ],
      servedPeople: [],
    });

    // Act
    const results = computeRoundResults(given);

    // Assert
    expect(results.servedUnits!.map((u) => [u.unitId, u.name, u.type, u.parentName])).toEqual([
      ['gone', 'gone', null, null],
    ]);
    expect(results.servedPeople!.map((p) => [p.personId, p.name])).toEqual([['p-gone', 'p-gone']]);
  });

  it('when the results are exported, then serving units and serving people follow the units and secretaries as rows of their own', () => {
    // Arrange
    const results = computeRoundResults(input());

    // Act
    const rows = resultsTable(results);

    // Assert
    expect(rows.map((r) => r.slice(0, 8))).toEqual([
      ['类型', '编号', '名称', '所属单位', '评单数', '已评单数', '缺评单数', '综合得分'],
      ['单位', 's', '街道', null, 3, 3, 0, '3.13'],
      ['单位', 'c1', '甲社区', '街道', 3, 3, 0, '3.13'],
      ['书记', 'p-s', '街道书记', '街道', 3, 3, 0, '3.13'],
      ['服务单位', 'cb', '县医院', '街道', 2, 2, 0, '4.20'],
      ['服务单位', 'dep', '城管局', '街道', 1, 1, 0, '3.40'],
      ['服务人员', 'p-a', '党员甲', null, 2, 2, 0, '4.20'],
      ['服务人员', 'p-b', '党员乙', null, 1, 1, 0, '3.40'],
    ]);
  });

  it('when results were frozen before the attribution (no servedUnits), then the export has no serving rows', () => {
    // Arrange
    const older = computeRoundResults(input());
    delete older.servedUnits;
    delete older.servedPeople;

    // Act
    const rows = resultsTable(older);

    // Assert
    expect(rows.map((r) => r[0])).toEqual(['类型', '单位', '单位', '书记']);
  });
});

describe('assessmentRecordsOf (年度考核记录)', () => {
  it('when a round of the second half of 2026 closes in January 2027, then its records are of 2026, one per secretary, unit and serving unit', () => {
    // Arrange: 1 July 00:00 to 1 January 00:00, Beijing time.
    const round = {
      roundId: 'case-r',
      roundUnitId: 's',
      period: { from: '2026-06-30T16:00:00.000Z', to: '2026-12-31T16:00:00.000Z' },
      closedAt: '2027-01-22T01:00:00.000Z',
      results: computeRoundResults(input()),
    };

    // Act
    const records = assessmentRecordsOf(round);

    // Assert
    expect(records.map((r) => [r.id, r.year, r.name, r.unitNames, r.items, r.score])).toEqual([
      ['case-r:secretary:p-s', 2026, '街道书记', ['街道'], 3, 3.13],
      ['case-r:unit:s', 2026, '街道', [], 3, 3.13],
      ['case-r:unit:c1', 2026, '甲社区', ['街道'], 3, 3.13],
      ['case-r:serving-unit:cb', 2026, '县医院', ['街道'], 2, 4.2],
      ['case-r:serving-unit:dep', 2026, '城管局', ['街道'], 1, 3.4],
    ]);
    expect(assessmentTable(records)[4]).toEqual([
      2026,
      '服务单位',
      'cb',
      '县医院',
      '街道',
      'case-r',
      '2026-06-30T16:00:00.000Z',
      '2026-12-31T16:00:00.000Z',
      2,
      2,
      0,
      '4.20',
      // The 条块考核 columns (街道权重, 计入年度得分, 一票否决, 否决理由): empty for a round's records.
      null,
      null,
      null,
      null,
    ]);
  });
});
