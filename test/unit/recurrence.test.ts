import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { DefinitionProblem } from '../../lang/check';
import { validateDefinition } from '../../lang/check';
import type { RecurrenceCase } from '../../common/recurrence';
import { MAX_GROUP_CASE_IDS, placeOf, recurringGroups } from '../../common/recurrence';
import { createMailRenderer } from '../../mail/renderer';

/**
 * 未诉先办 (issue 17): which requests recur (the same category at the same place, at least N in
 * the period), as the `recurrence` step's activity groups them, and what the validator says
 * about the step.
 */

const DEFINITIONS = path.join(__dirname, '..', '..', 'definitions');
const knownTemplates = createMailRenderer().templateNames;

function request(
  caseId: string,
  category: string | null,
  placeId: string | null,
  receivedAt = '2026-11-10T02:00:00.000Z',
): RecurrenceCase {
  return { caseId, category, placeId, receivedAt };
}

function analysisWith(step: Record<string, unknown>, key = 'test-analysis') {
  return {
    key,
    name: '高频诉求分析',
    starters: ['admin'],
    input: { fields: [] },
    steps: [
      {
        id: 'analyse',
        name: '高频诉求分析',
        type: 'recurrence',
        cases: {
          from: 'addMonths(date(case.receivedAt), -1)',
          to: 'addDays(date(case.receivedAt), -1)',
          definitions: ['hotline-12345', 'grid-event'],
        },
        place: 'compound',
        threshold: 3,
        definition: 'proactive-case',
        ...step,
      },
      { id: 'done', name: '完成', type: 'end' },
    ],
  };
}

function problemsOf(raw: unknown): DefinitionProblem[] {
  const result = validateDefinition(raw, { knownTemplates });
  return result.ok ? [] : result.problems;
}

describe('recurring requests: grouping', () => {
  it('when requests of two categories fall at two places, then only the category-place pairs with at least the threshold are groups, largest first', () => {
    // Arrange
    const cases = [
      request('c1', '供水', 'compound-a'),
      request('c2', '供水', 'compound-a'),
      request('c3', '供水', 'compound-a'),
      request('c4', '噪声扰民', 'compound-a'),
      request('c5', '噪声扰民', 'compound-b'),
      request('c6', '噪声扰民', 'compound-b'),
      request('c7', '噪声扰民', 'compound-b'),
      request('c8', '噪声扰民', 'compound-b'),
      request('c9', '供水', 'compound-b'),
    ];

    // Act
    const grouping = recurringGroups(cases, 3);

    // Assert
    expect(grouping.groups.map((g) => [g.category, g.placeId, g.count])).toEqual([
      ['噪声扰民', 'compound-b', 4],
      ['供水', 'compound-a', 3],
    ]);
    expect(grouping.uncategorised).toBe(0);
    expect(grouping.unplaced).toBe(0);
  });

  it('when a group has exactly the threshold, then it recurs; one fewer does not', () => {
    // Arrange
    const three = [1, 2, 3].map((n) => request(`c${n}`, '环境卫生', 'grid-1'));

    // Act
    const atThreshold = recurringGroups(three, 3);
    const below = recurringGroups(three.slice(0, 2), 3);

    // Assert
    expect(atThreshold.groups).toHaveLength(1);
    expect(below.groups).toEqual([]);
  });

  it('when requests have no category or no place at the level, then they are counted apart and in no group', () => {
    // Arrange
    const cases = [
      request('c1', null, 'grid-1'),
      request('c2', '  ', 'grid-1'),
      request('c3', '供水', null),
      request('c4', '供水', 'grid-1'),
      request('c5', '供水', 'grid-1'),
    ];

    // Act
    const grouping = recurringGroups(cases, 2);

    // Assert
    expect(grouping.uncategorised).toBe(2);
    expect(grouping.unplaced).toBe(1);
    expect(grouping.groups).toEqual([
      { category: '供水', placeId: 'grid-1', count: 2, caseIds: ['c4', 'c5'] },
    ]);
  });

  it('when a group is larger than the ids a proactive case carries, then it lists the newest ids and counts them all', () => {
    // Arrange
    const total = MAX_GROUP_CASE_IDS + 20;
    const cases = Array.from({ length: total }, (_, n) =>
      request(
        `c${String(n).padStart(3, '0')}`,
        '物业服务',
        'compound-a',
        new Date(Date.UTC(2026, 10, 1) + n * 60_000).toISOString(),
      ),
    );

    // Act
    const [group] = recurringGroups(cases, 5).groups;

    // Assert
    expect(group!.count).toBe(total);
    expect(group!.caseIds).toHaveLength(MAX_GROUP_CASE_IDS);
    expect(group!.caseIds[0]).toBe(`c${String(total - 1).padStart(3, '0')}`);
  });

  it('when the same requests come in another order, then the groups and their ids are the same', () => {
    // Arrange
    const cases = [
      request('c1', '供水', 'a', '2026-11-01T00:00:00.000Z'),
      request('c2', '供电', 'a'),
      request('c3', '供水', 'a', '2026-11-02T00:00:00.000Z'),
      request('c4', '供电', 'a'),
    ];

    // Act
    const forwards = recurringGroups(cases, 2);
    const backwards = recurringGroups([...cases].reverse(), 2);

    // Assert
    expect(backwards).toEqual(forwards);
    expect(forwards.groups.map((g) => g.category)).toEqual(['供水', '供电']);
  });

  it('when a unit lies below the place level, then its place is the nearest unit of that type above it; above the level, none', () => {
    // Arrange
    const ancestry = [
      { id: 'b-1', type: 'building' },
      { id: 'cp-1', type: 'compound' },
      { id: 'g-1', type: 'grid' },
      { id: 'cm-1', type: 'community' },
    ];

    // Act
    const compound = placeOf(ancestry, 'compound');
    const none = placeOf(ancestry.slice(2), 'compound');

    // Assert
    expect(compound).toBe('cp-1');
    expect(none).toBeNull();
  });
});

describe('recurring requests: the validator', () => {
  it('when the shipped analysis and proactive case are checked, then both are valid', () => {
    // Arrange
    const files = ['proactive-governance.yaml', 'proactive-case.yaml'];

    // Act
    const problems = files.map((f) =>
      problemsOf(YAML.parse(readFileSync(path.join(DEFINITIONS, f), 'utf8'))),
    );

    // Assert
    expect(problems).toEqual([[], []]);
  });

  it('when the threshold is below 2, fractional or too large, then each is named', () => {
    // Arrange
    const thresholds = [1, 2.5, 1001];

    // Act
    const problems = thresholds.map((threshold) => problemsOf(analysisWith({ threshold })));

    // Assert
    for (const [i, list] of problems.entries()) {
      expect(list).toEqual([
        {
          path: 'steps[0].threshold',
          message: `threshold must be a whole number from 2 to 1000 (requests of one category at one place in the period), not ${thresholds[i]}`,
        },
      ]);
    }
  });

  it('when the threshold is not a number, then the schema names it', () => {
    // Act
    const problems = problemsOf(analysisWith({ threshold: 'five' }));

    // Assert
    expect(problems).toEqual([
      { path: 'steps[0].threshold', message: 'threshold must be a whole number from 2 to 1000' },
    ]);
  });

  it('when the place is a street, or not a unit type, then it is named', () => {
    // Act
    const street = problemsOf(analysisWith({ place: 'street' }));
    const unknown = problemsOf(analysisWith({ place: 'village' }));

    // Assert
    expect(street).toEqual([
      {
        path: 'steps[0].place',
        message:
          'a place is counted at community, grid, compound, building, not "street": a street holds too many places (or none) for one recurring problem',
      },
    ]);
    expect(unknown.map((p) => p.path)).toEqual(['steps[0].place']);
  });

  it('when the processes counted name the analysis itself, the proactive process or one twice, then each is named', () => {
    // Arrange
    const raw = analysisWith({
      cases: {
        from: 'addMonths(date(case.receivedAt), -1)',
        to: 'addDays(date(case.receivedAt), -1)',
        definitions: ['test-analysis', 'proactive-case', 'grid-event', 'grid-event'],
      },
    });

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems.map((p) => p.path)).toEqual([
      'steps[0].cases.definitions[0]',
      'steps[0].cases.definitions[1]',
      'steps[0].cases.definitions[3]',
    ]);
    expect(problems[2]!.message).toBe('duplicate process "grid-event"');
  });

  it('when the analysis opens its own process, or its period reads an unknown field, then each is named', () => {
    // Arrange
    const raw = analysisWith({
      definition: 'test-analysis',
      cases: {
        from: 'data.start',
        to: 'addDays(date(case.receivedAt), -1)',
        definitions: ['grid-event'],
      },
    });

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems.map((p) => p.path)).toEqual(['steps[0].cases.from', 'steps[0].definition']);
  });

  it('when the step sits in a parallel branch, then it is refused (top level only)', () => {
    // Arrange
    const step = analysisWith({}).steps[0];
    const raw = {
      ...analysisWith({}),
      steps: [
        {
          id: 'both',
          name: '并行',
          type: 'parallel',
          branches: [
            { name: 'a', steps: [step] },
            { name: 'b', steps: [{ id: 'wait', name: '等待', type: 'timer', duration: 'P1D' }] },
          ],
        },
        { id: 'done', name: '完成', type: 'end' },
      ],
    };

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]!.path).toMatch(/^steps\[0\]\.branches\[0\]\.steps\[0\]/);
    expect(problems[0]!.message).toContain(
      'a recurrence analysis cannot run inside a parallel branch',
    );
  });
});
