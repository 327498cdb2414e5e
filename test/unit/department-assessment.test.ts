import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { FigureWeight } from '../../common/department-assessment';
import {
  departmentFiguresOf,
  departmentRecordsOf,
  departmentResultsOf,
  scoreOf,
} from '../../common/department-assessment';
import { assessmentTable } from '../../common/evaluation';
import type { Sums } from '../../common/metric-rollup';
import { sumsOf } from '../../common/metric-rollup';
import { vetoesOf } from '../../lang/assessment';
import { validateDefinition } from '../../lang/check';

/**
 * The street's assessment of the departments (条块考核, issue 17): the figures and score of each
 * department from its summed case flags, the street's weight and the veto (一票否决), the records,
 * the review form's vetoes and the validator's checks of the step.
 */

const WEIGHTS: FigureWeight[] = [
  { figure: 'responseRate', weight: 30 },
  { figure: 'completionRate', weight: 30 },
  { figure: 'onTimeRate', weight: 20 },
  { figure: 'satisfactionRate', weight: 20 },
];

function sums(values: Partial<Sums>): Sums {
  return sumsOf(values);
}

const urban = { unitId: 'dep-urban', name: '城管局', parentName: '县' };
const housing = { unitId: 'dep-housing', name: '住建局', parentName: '县' };

describe('departmentFiguresOf and scoreOf (条块考核 score)', () => {
  it('when a department has figures for every rate, then the score is their weighted mean × 100', () => {
    // Arrange: 4 dispatched, 3 in time; 4 due, 4 completed, 2 on time; 2 rated, 1 satisfied
    const summed = sums({
      received: 4,
      dispatched: 4,
      accepted: 4,
      respondedInTime: 3,
      due: 4,
      completed: 4,
      completedOnTime: 2,
      resolved: 3,
      rated: 2,
      satisfied: 1,
    });

    // Act
    const figures = departmentFiguresOf(urban, summed, WEIGHTS);

    // Assert: 0.75×30 + 1×30 + 0.5×20 + 0.5×20 = 72.5
    expect(figures.rates).toEqual({
      responseRate: 0.75,
      acceptanceRate: 1,
      completionRate: 1,
      resolutionRate: 0.75,
      onTimeRate: 0.5,
      satisfactionRate: 0.5,
    });
    expect(figures.counts.cases).toBe(4);
    expect(figures.score).toBe(72.5);
  });

  it('when nobody rated a department, then 满意率 is left out and the other weights renormalised', () => {
    // Arrange
    const summed = sums({
      received: 2,
      dispatched: 2,
      respondedInTime: 2,
      due: 2,
      completed: 1,
      completedOnTime: 1,
    });

    // Act
    const figures = departmentFiguresOf(housing, summed, WEIGHTS);

    // Assert: (1×30 + 0.5×30 + 1×20) ÷ 80 × 100 = 81.25
    expect(figures.rates.satisfactionRate).toBeNull();
    expect(figures.score).toBe(81.25);
  });

  it('when a department has no cases, then every rate is null and it has no score (not 0)', () => {
    // Act
    const figures = departmentFiguresOf(housing, sums({}), WEIGHTS);

    // Assert
    expect(Object.values(figures.rates).every((r) => r === null)).toBe(true);
    expect(figures.counts.cases).toBe(0);
    expect(figures.score).toBeNull();
  });

  it('when cases were refused (不予受理), then they are not counted as the department’s cases', () => {
    // Act
    const figures = departmentFiguresOf(urban, sums({ received: 3, excluded: 1 }), WEIGHTS);

    // Assert
    expect(figures.counts.cases).toBe(2);
  });

  it('when weights differ, then the score follows them', () => {
    // Arrange
    const rates = {
      responseRate: 1,
      acceptanceRate: null,
      completionRate: 0,
      resolutionRate: null,
      onTimeRate: null,
      satisfactionRate: null,
    };

    // Act and assert
    expect(
      scoreOf(rates, [
        { figure: 'responseRate', weight: 90 },
        { figure: 'completionRate', weight: 10 },
      ]),
    ).toBe(90);
    expect(
      scoreOf(rates, [
        { figure: 'responseRate', weight: 10 },
        { figure: 'completionRate', weight: 90 },
      ]),
    ).toBe(10);
  });
});

describe('departmentResultsOf and departmentRecordsOf (the street’s weight and the veto)', () => {
  const figures = [
    departmentFiguresOf(urban, sums({ received: 1, dispatched: 1, respondedInTime: 1 }), WEIGHTS),
    departmentFiguresOf(
      housing,
      sums({
        received: 1,
        dispatched: 1,
        respondedInTime: 1,
        due: 1,
        completed: 1,
        completedOnTime: 1,
      }),
      WEIGHTS,
    ),
    departmentFiguresOf(
      { unitId: 'dep-idle', name: '水务局', parentName: '县' },
      sums({}),
      WEIGHTS,
    ),
  ];

  it('when the street vetoes a department, then it adds 0 to its year whatever its score, and the others add score × 30%', () => {
    // Act
    const results = departmentResultsOf(
      figures,
      30,
      [{ unitId: 'dep-housing', reason: '拒不应哨' }],
      'p-secretary',
    );

    // Assert
    expect(
      results.map((r) => [r.unitId, r.score, r.weightedScore, r.veto?.reason ?? null]),
    ).toEqual([
      ['dep-urban', 100, 30, null],
      ['dep-housing', 100, 0, '拒不应哨'],
      ['dep-idle', null, null, null],
    ]);
    expect(results[1]!.veto).toEqual({
      unitId: 'dep-housing',
      reason: '拒不应哨',
      by: 'p-secretary',
    });
  });

  it('when the records are written, then each carries the street, its weight, the rates and the veto, for the year the period ends in', () => {
    // Arrange
    const results = departmentResultsOf(
      figures,
      30,
      [{ unitId: 'dep-housing', reason: '拒不应哨' }],
      null,
    );

    // Act
    const records = departmentRecordsOf({
      caseId: 'case-1',
      unitId: 'street-1',
      unitName: '城关街道',
      period: { from: '2025-12-31T16:00:00.000Z', to: '2026-12-31T16:00:00.000Z' },
      closedAt: '2027-01-20T02:00:00.000Z',
      results,
    });

    // Assert
    expect(records.map((r) => [r.id, r.kind, r.year, r.weight, r.weightedScore])).toEqual([
      ['case-1:department:dep-urban', 'department', 2026, 30, 30],
      ['case-1:department:dep-housing', 'department', 2026, 30, 0],
      ['case-1:department:dep-idle', 'department', 2026, 30, null],
    ]);
    expect(records[0]!.unitNames).toEqual(['城关街道', '县']);
    expect(records[0]!.roundUnitId).toBe('street-1');
    const table = assessmentTable(records);
    expect(table[0]!.slice(-4)).toEqual(['街道权重(%)', '计入年度得分', '一票否决', '否决理由']);
    expect(table[2]!.slice(-4)).toEqual([30, '0.00', '是', '拒不应哨']);
    expect(table[1]!.slice(-4)).toEqual([30, '30.00', '否', null]);
  });
});

describe('vetoesOf (the review form)', () => {
  const assessed = ['dep-urban', 'dep-housing'];

  it('when no department is vetoed, then the review confirms without vetoes', () => {
    expect(vetoesOf({}, assessed)).toEqual({ ok: true, vetoes: [] });
  });

  it('when a vetoed department has its reason, then the veto is taken', () => {
    expect(vetoesOf({ vetoed: ['dep-housing'], vetoReasons: [' 拒不应哨 '] }, assessed)).toEqual({
      ok: true,
      vetoes: [{ unitId: 'dep-housing', reason: '拒不应哨' }],
    });
  });

  it('when a veto lacks its reason, names a unit not assessed or repeats one, then each problem is named', () => {
    // Act
    const checked = vetoesOf(
      { vetoed: ['dep-urban', 'dep-water', 'dep-urban'], vetoReasons: ['', '不作为', '重复'] },
      assessed,
    );

    // Assert
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.problems.map((p) => p.path)).toEqual([
      'form.vetoReasons[0]',
      'form.vetoed[1]',
      'form.vetoed[2]',
    ]);
  });
});

describe('validateDefinition: the assessment step', () => {
  const file = path.join(__dirname, '..', '..', 'definitions', 'department-assessment.yaml');
  const shipped = () => YAML.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const options = {
    knownTemplates: new Set(['task-assigned', 'task-reminder', 'task-escalated']),
    knownDefinitions: new Set(['whistle-department', 'grid-event', 'department-assessment']),
  };
  const assess = (raw: Record<string, unknown>) =>
    (raw.steps as Array<Record<string, unknown>>)[0]!;

  it('when the shipped definition is checked, then it is valid', () => {
    expect(validateDefinition(shipped(), options)).toMatchObject({ ok: true });
  });

  it('when the weights do not add up to 100 or a figure repeats, then the validator says so with the path', () => {
    // Arrange
    const raw = shipped();
    assess(raw).figures = [
      { figure: 'responseRate', weight: 50 },
      { figure: 'responseRate', weight: 30 },
    ];

    // Act
    const result = validateDefinition(raw, options);

    // Assert
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems).toEqual([
      { path: 'steps[0].figures[1].figure', message: 'duplicate figure "responseRate"' },
      { path: 'steps[0].figures', message: 'the weights add up to 80; they must add up to 100' },
    ]);
  });

  it('when a figure is unknown, then the schema names the figures there are', () => {
    // Arrange
    const raw = shipped();
    assess(raw).figures = [{ figure: 'happiness', weight: 100 }];

    // Act
    const result = validateDefinition(raw, options);

    // Assert
    expect(!result.ok && result.problems[0]!.path).toBe('steps[0].figures[0].figure');
    expect(!result.ok && result.problems[0]!.message).toContain('"happiness" is not a figure');
  });

  it('when a later step reads steps.assess, then what the assessment leaves is known and anything else refused', () => {
    // Arrange: a decision after the assessment, on its vetoes and on a score it does not leave
    const raw = shipped();
    const steps = raw.steps as Array<Record<string, unknown>>;
    steps.splice(1, 0, {
      id: 'any_veto',
      name: '有否决',
      type: 'decision',
      branches: [
        { when: 'steps.assess.vetoed > 0', next: 'closed' },
        { when: 'steps.assess.score > 60', next: 'closed' },
      ],
      otherwise: 'closed',
    });

    // Act
    const result = validateDefinition(raw, options);

    // Assert
    expect(!result.ok && result.problems.map((p) => p.path)).toEqual(['steps[1].branches[1].when']);
    expect(!result.ok && result.problems[0]!.message).toContain(
      'steps.assess (a assessment step) has no "score"',
    );
  });

  it('when a process is unknown, then the validator names it and the nearest known one', () => {
    // Arrange
    const raw = shipped();
    (assess(raw).cases as Record<string, unknown>).definitions = [
      'whistle-departmnt',
      'grid-event',
    ];

    // Act
    const result = validateDefinition(raw, options);

    // Assert
    expect(!result.ok && result.problems).toEqual([
      {
        path: 'steps[0].cases.definitions[0]',
        message: 'unknown process "whistle-departmnt": did you mean "whistle-department"?',
      },
    ]);
  });
});
