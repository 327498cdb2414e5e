import type { ResultsInput } from '../../common/evaluation';
import {
  computeRoundResults,
  csvField,
  resultsCsv,
  round2,
  toCsv,
  weightedScore,
} from '../../common/evaluation';

/** The arithmetic of an evaluation round (评单评议): weights, missing scores, roll-up, CSV. */

const criteria = [
  { id: 'quality', name: '服务质量' },
  { id: 'duration', name: '办理时效' },
  { id: 'satisfaction', name: '满意度' },
];
const groups = [
  { id: 'residents', name: '居民', weight: 50 },
  { id: 'units', name: '共建单位', weight: 30 },
  { id: 'organisations', name: '社会组织', weight: 20 },
];
const all = (n: number) => ({ quality: n, duration: n, satisfaction: n });

function input(overrides: Partial<ResultsInput> = {}): ResultsInput {
  return {
    rootUnitId: 's',
    criteria,
    groups,
    orderRatingGroup: 'residents',
    units: [
      { id: 's', name: '街道', type: 'street', parentId: 'county' },
      { id: 'c1', name: '甲社区', type: 'community', parentId: 's' },
      { id: 'c2', name: '乙社区', type: 'community', parentId: 's' },
      { id: 'g1', name: '甲一网格', type: 'grid', parentId: 'c1' },
      { id: 'cb', name: '共建单位', type: 'cobuilding', parentId: 's' },
    ],
    items: [
      { itemId: 'o1', unitId: 'g1', definitionKey: 'k', rating: 5 },
      { itemId: 'o2', unitId: 'c2', definitionKey: 'k', rating: null },
    ],
    scores: [
      { itemId: 'o1', group: 'units', values: all(4) },
      { itemId: 'o1', group: 'organisations', values: all(3) },
    ],
    responsible: [
      { personId: 'p-s', name: '街道书记', unitId: 's' },
      { personId: 'p-c1', name: '甲社区书记', unitId: 'c1' },
      { personId: 'p-c2', name: '乙社区书记', unitId: 'c2' },
      { personId: 'p-elsewhere', name: '别处书记', unitId: 'county' },
    ],
    ...overrides,
  };
}

describe('weightedScore', () => {
  it('when every group scored, then the weights apply as given', () => {
    expect(
      weightedScore([
        { weight: 50, mean: 5 },
        { weight: 30, mean: 4 },
        { weight: 20, mean: 3 },
      ]),
    ).toBeCloseTo(4.3, 10);
  });

  it('when a group gave nothing, then it is missing and the others are renormalised, not zeroed', () => {
    expect(
      weightedScore([
        { weight: 50, mean: 3 },
        { weight: 30, mean: 5 },
        { weight: 20, mean: null },
      ]),
    ).toBeCloseTo(3.75, 10);
  });

  it('when nobody scored, then there is no score', () => {
    expect(weightedScore([{ weight: 100, mean: null }])).toBeNull();
  });
});

describe('computeRoundResults', () => {
  it('when the requester rated the order, then the rating counts as one score of its group', () => {
    // Act
    const results = computeRoundResults(input());

    // Assert: o1 = 5×50 + 4×30 + 3×20 over 100 = 4.3
    expect(results.items[0]).toEqual({
      itemId: 'o1',
      unitId: 'g1',
      definitionKey: 'k',
      servedUnitIds: [],
      servedPersonIds: [],
      score: 4.3,
      groups: [
        { id: 'residents', scores: 1, mean: 5 },
        { id: 'units', scores: 1, mean: 4 },
        { id: 'organisations', scores: 1, mean: 3 },
      ],
      missingGroups: [],
    });
  });

  it('when an order has no score at all, then it is missing, never a default score', () => {
    const results = computeRoundResults(input());
    expect(results.items[1]).toMatchObject({
      score: null,
      missingGroups: ['residents', 'units', 'organisations'],
    });
    expect(results.overall).toMatchObject({ items: 2, scored: 1, missing: 1, score: 4.3 });
  });

  it('when units roll up, then each unit covers its subtree, in tree order, without units that have no orders', () => {
    const results = computeRoundResults(input());
    expect(results.units.map((u) => [u.unitId, u.items, u.scored, u.score])).toEqual([
      ['s', 2, 1, 4.3],
      ['c1', 1, 1, 4.3],
      ['g1', 1, 1, 4.3],
      ['c2', 1, 0, null],
    ]);
  });

  it('when secretaries are listed, then each answers for the orders of their units, and posts outside the round are left out', () => {
    const results = computeRoundResults(input());
    expect(results.secretaries.map((s) => [s.personId, s.items, s.score])).toEqual([
      ['p-s', 2, 4.3],
      ['p-c1', 1, 4.3],
      ['p-c2', 1, null],
    ]);
  });

  it('when a person holds the post in two units, then each order counts once', () => {
    const results = computeRoundResults(
      input({
        responsible: [
          { personId: 'p-x', name: '兼任书记', unitId: 'c1' },
          { personId: 'p-x', name: '兼任书记', unitId: 'g1' },
        ],
      }),
    );
    expect(results.secretaries).toHaveLength(1);
    expect(results.secretaries[0]).toMatchObject({
      items: 1,
      units: [
        { id: 'c1', name: '甲社区' },
        { id: 'g1', name: '甲一网格' },
      ],
    });
  });

  it('when no order rating group is named, then ratings are not counted', () => {
    const results = computeRoundResults(input({ orderRatingGroup: null }));
    // o1 = 4×30 + 3×20 over 50 = 3.6
    expect(results.items[0]).toMatchObject({ score: 3.6, missingGroups: ['residents'] });
  });
});

describe('round2', () => {
  it('when a value lies on a half, then it rounds away from zero as a spreadsheet shows it', () => {
    expect(round2(3.625)).toBe(3.63);
    expect(round2(4.005)).toBe(4.01);
    expect(round2(4.6166667)).toBe(4.62);
  });
});

describe('CSV', () => {
  it('when a field holds a comma, a quote or a line break, then it is quoted with quotes doubled (RFC 4180)', () => {
    expect(csvField('甲社区')).toBe('甲社区');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('说"好"')).toBe('"说""好"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(3)).toBe('3');
  });

  it.each([
    ['=HYPERLINK("http://x","点我")', '"\'=HYPERLINK(""http://x"",""点我"")"'],
    ['+1+1', "'+1+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1:A2)', "'@SUM(A1:A2)"],
    ['\t=1+1', "'\t=1+1"],
    ['\r=1+1', '"\'\r=1+1"'],
  ])(
    'when a text field %j starts as a formula would, then it gets a leading quote so spreadsheets show it as text',
    (text, written) => {
      expect(csvField(text)).toBe(written);
    },
  );

  it('when a number is negative or a text holds = or - past its start, then it is written as it is', () => {
    expect(csvField(-3)).toBe('-3');
    expect(csvField(-0.5)).toBe('-0.5');
    expect(csvField('甲社区-东区')).toBe('甲社区-东区');
    expect(csvField('a=b')).toBe('a=b');
  });

  it('when a unit and a secretary are named as formulas, then the exported results carry them as text', () => {
    // Arrange
    const base = input();
    const units = base.units.map((u) => (u.id === 'c2' ? { ...u, name: '=1+1' } : u));
    const responsible = base.responsible.map((p) =>
      p.personId === 'p-c2' ? { ...p, name: '@cmd' } : p,
    );

    // Act
    const text = resultsCsv(computeRoundResults(input({ units, responsible })));

    // Assert
    expect(text).toContain("\r\n单位,c2,'=1+1,街道,1,0,1,,,,,,,\r\n");
    expect(text).toContain("\r\n书记,p-c2,'@cmd,'=1+1,1,0,1,,,,,,,\r\n");
  });

  it('when rows are written, then the text starts with a BOM and every record ends with CRLF', () => {
    expect(
      toCsv([
        ['a', 'b'],
        ['1', null],
      ]),
    ).toBe('\uFEFFa,b\r\n1,\r\n');
  });

  it('when the results are exported, then the header names the groups with their weights and the rows hold units then secretaries', () => {
    // Act
    const text = resultsCsv(computeRoundResults(input()));

    // Assert
    expect(text).toBe(
      '\uFEFF' +
        [
          '类型,编号,名称,所属单位,评单数,已评单数,缺评单数,综合得分,居民（权重50%）,共建单位（权重30%）,社会组织（权重20%）,服务质量,办理时效,满意度',
          '单位,s,街道,,2,1,1,4.30,5.00,4.00,3.00,4.00,4.00,4.00',
          '单位,c1,甲社区,街道,1,1,0,4.30,5.00,4.00,3.00,4.00,4.00,4.00',
          '单位,g1,甲一网格,甲社区,1,1,0,4.30,5.00,4.00,3.00,4.00,4.00,4.00',
          '单位,c2,乙社区,街道,1,0,1,,,,,,,',
          '书记,p-s,街道书记,街道,2,1,1,4.30,5.00,4.00,3.00,4.00,4.00,4.00',
          '书记,p-c1,甲社区书记,甲社区,1,1,0,4.30,5.00,4.00,3.00,4.00,4.00,4.00',
          '书记,p-c2,乙社区书记,乙社区,1,0,1,,,,,,,',
        ].join('\r\n') +
        '\r\n',
    );
  });
});
