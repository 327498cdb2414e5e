import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { DefinitionSpec } from '../../lang/definition';
import type { DefinitionProblem } from '../../lang/check';
import { validateDefinition } from '../../lang/check';
import { awardKey, matchingRules, pointsFromValue, recipientsOfRule } from '../../lang/points';

const options = { knownTemplates: new Set(['case-received', 'task-assigned']) };

/** A wish list: a claim pool, a task with two outcomes, an end. */
function wishProcess(points: unknown): Record<string, unknown> {
  return {
    key: 'wish-points',
    name: '微心愿',
    starters: ['resident'],
    input: { fields: [] },
    steps: [
      {
        id: 'pool',
        name: '认领',
        type: 'claim',
        candidates: [{ role: 'party-member', unit: 'community' }],
      },
      {
        id: 'fulfil',
        name: '圆梦',
        type: 'task',
        candidates: [{ claimantsOf: 'pool' }],
        outcomes: [
          { id: 'fulfilled', name: '已实现' },
          { id: 'failed', name: '未实现' },
        ],
      },
      { id: 'closed', name: '办结', type: 'end' },
    ],
    points,
  };
}

function problemsOf(raw: unknown): DefinitionProblem[] {
  const result = validateDefinition(raw, options);
  return result.ok ? [] : result.problems;
}

function problem(at: string, messagePart: string): DefinitionProblem {
  return { path: at, message: expect.stringContaining(messagePart) as string };
}

describe('claimantsOf a roll-call', () => {
  it('when a selector names the claimants of a roll-call (max: all), then it is refused: its reports are on the roster', () => {
    // Arrange
    const raw = wishProcess([]);
    const steps = raw.steps as Array<Record<string, unknown>>;
    steps[0] = { ...steps[0], claimants: { max: 'all' } };

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'steps[1].candidates[0].claimantsOf',
        message: expect.stringContaining('is a roll-call (claimants max: all)') as string,
      }),
    ]);
  });
});

describe('points rules in a definition', () => {
  it('when rules name a task outcome, a pool and selectors, then the definition is valid', () => {
    // Arrange
    const raw = wishProcess([
      { when: { step: 'fulfil', outcome: 'fulfilled' }, points: 10, reason: '完成微心愿' },
      { when: { step: 'pool' }, points: 1, reason: '认领微心愿' },
      {
        when: { step: 'fulfil' },
        to: [{ role: 'secretary', unit: 'community' }, { claimantsOf: 'pool' }],
        points: 2,
        reason: '组织协调',
      },
    ]);

    // Act
    const result = validateDefinition(raw, options);

    // Assert
    expect(result.ok).toBe(true);
  });

  it('when rules name unknown steps, outcomes, wrong step types and wrong recipients, then each is reported with its path', () => {
    // Arrange
    const raw = {
      ...wishProcess([
        { when: { step: 'serve' }, points: 5, reason: 'x' },
        { when: { step: 'fulfil', outcome: 'done' }, points: 5, reason: 'x' },
        { when: { step: 'pool', outcome: 'fulfilled' }, points: 5, reason: 'x' },
        { when: { step: 'pool' }, to: 'assignee', points: 5, reason: 'x' },
        { when: { step: 'fulfil' }, to: ['claimants'], points: 5, reason: 'x' },
        { when: { step: 'fulfil' }, to: { role: 'grid-wroker' }, points: 5, reason: 'x' },
        { when: { step: 'note' }, points: 5, reason: 'x' },
      ]),
    };
    (raw.steps as unknown[]).splice(2, 0, {
      id: 'note',
      name: '告知',
      type: 'notify',
      template: 'case-received',
      to: { address: 'a@example.cn' },
    });

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([
      problem('points[0].when.step', 'unknown step "serve"'),
      problem('points[1].when.outcome', 'has no outcome "done": use one of fulfilled, failed'),
      problem('points[2].when.outcome', 'has no outcomes: leave outcome out'),
      problem('points[3].to', 'has no assignee'),
      problem('points[4].to[0]', 'has no claimants'),
      problem('points[5].to.role', 'unknown role "grid-wroker"'),
      problem('points[6].when.step', 'is a notify step'),
    ]);
  });

  it.each([
    [0, 'points must be a whole number from 1 to 10000'],
    [-5, 'points must be a whole number from 1 to 10000'],
    [2.5, 'points must be a whole number from 1 to 10000'],
    [10_001, 'points must be a whole number from 1 to 10000'],
    ['10', 'points must be a whole number from 1 to 10000'],
  ])(
    'when a rule gives %p points, then the shape check names points[0].points',
    (points, message) => {
      // Act
      const problems = problemsOf(wishProcess([{ when: { step: 'fulfil' }, points, reason: 'x' }]));

      // Assert
      expect(problems).toEqual([problem('points[0].points', message)]);
    },
  );

  it('when a rule has no reason, an unknown key or no when, then the shape check says so', () => {
    // Act
    const problems = problemsOf(
      wishProcess([
        { when: { step: 'fulfil' }, points: 1, reason: '  ' },
        { when: { step: 'fulfil' }, points: 1, reason: 'x', bonus: 2 },
        { points: 1, reason: 'x' },
      ]),
    );

    // Assert
    expect(problems.map((p) => p.path)).toEqual([
      'points[0].reason',
      'points[1]',
      'points[2].when',
    ]);
    expect(problems[0]!.message).toContain('reason is required');
  });

  it('when a completion is matched, then only completed steps with the rule’s outcome earn', () => {
    // Arrange
    const spec = {
      points: [
        { when: { step: 'fulfil', outcome: 'fulfilled' }, points: 10, reason: 'a' },
        { when: { step: 'fulfil' }, points: 1, reason: 'b' },
        { when: { step: 'pool' }, points: 2, reason: 'c' },
      ],
    } as Pick<DefinitionSpec, 'points'>;

    // Act
    const fulfilled = matchingRules(spec, 'fulfil', { status: 'completed', outcome: 'fulfilled' });
    const failed = matchingRules(spec, 'fulfil', { status: 'completed', outcome: 'failed' });
    const returned = matchingRules(spec, 'fulfil', { status: 'returned', outcome: null });
    const unclaimed = matchingRules(spec, 'pool', { status: 'unclaimed', outcome: null });

    // Assert
    expect(fulfilled.map((m) => m.index)).toEqual([0, 1]);
    expect(failed.map((m) => m.index)).toEqual([1]);
    expect(returned).toEqual([]);
    expect(unclaimed).toEqual([]);
    expect(recipientsOfRule(spec.points![0]!, 'task')).toEqual(['assignee']);
    expect(recipientsOfRule(spec.points![2]!, 'claim')).toEqual(['claimants']);
    expect(awardKey('case-1', 'case-1.fulfil.2', 'p-1', 0)).toBe(
      'earn:case-1:case-1.fulfil.2:p-1:0',
    );
  });

  it.each(['micro-wish.yaml', 'three-orders.yaml'])(
    'when the shipped %s is validated, then its points rules are valid',
    (file) => {
      // Arrange
      const source = readFileSync(path.join(__dirname, '..', '..', 'definitions', file), 'utf8');

      // Act
      const result = validateDefinition(YAML.parse(source), {
        knownTemplates: new Set([
          'case-received',
          'case-result',
          'task-assigned',
          'task-reminder',
          'task-escalated',
        ]),
      });

      // Assert
      expect(result.ok && (result.spec.points ?? []).length).toBeGreaterThan(0);
    },
  );
});

describe('points from data (points: { expression })', () => {
  function withHours(points: unknown): Record<string, unknown> {
    const raw = wishProcess([{ when: { step: 'fulfil' }, points, reason: '服务时长' }]);
    const steps = raw.steps as Array<Record<string, unknown>>;
    steps[1] = {
      ...steps[1],
      form: { fields: [{ name: 'hours', label: '服务时长', type: 'number', min: 0, max: 24 }] },
    };
    return raw;
  }

  it('when a rule computes its points from a form field, then the definition is valid', () => {
    const result = validateDefinition(
      withHours({ expression: 'steps.fulfil.form.hours * 2' }),
      options,
    );
    expect(result.ok).toBe(true);
  });

  it('when the expression reads a field the form lacks, or does not parse, then points.expression is named', () => {
    expect(problemsOf(withHours({ expression: 'steps.fulfil.form.minutes' }))).toEqual([
      problem('points[0].points.expression', 'minutes'),
    ]);
    expect(problemsOf(withHours({ expression: 'steps.fulfil.form.hours *' }))).toEqual([
      problem('points[0].points.expression', 'bad expression'),
    ]);
  });

  it('when points is an object without expression, then the shape check names points', () => {
    expect(problemsOf(withHours({ hours: 'form.hours' }))).toEqual([
      problem('points[0].points', 'or { expression }'),
    ]);
  });

  it.each([
    [4, 4],
    [2.5, 3],
    [2.4, 2],
    [0.4, null],
    [0, null],
    [-3, null],
    [25_000, 10_000],
    ['4', null],
    [null, null],
    [Number.NaN, null],
  ])('when the expression gives %p, then each person earns %p', (value, points) => {
    expect(pointsFromValue(value)).toBe(points);
  });
});
