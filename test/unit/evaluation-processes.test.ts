import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { DefinitionProblem } from '../../lang/check';
import { validateDefinition } from '../../lang/check';
import { isServiceOrderProcess } from '../../common/evaluation';

/**
 * Which processes an evaluation round (评单评议) scores (issue 16): the service orders by default
 * (a declared acceptance and a feedback step), the round's own list when it has one, and what the
 * validator says about that list.
 */

const DEFINITIONS = path.join(__dirname, '..', '..', 'definitions');

function shipped(file: string): Record<string, unknown> {
  return YAML.parse(readFileSync(path.join(DEFINITIONS, file), 'utf8')) as Record<string, unknown>;
}

function roundWith(orders: Record<string, unknown>) {
  return {
    key: 'test-round',
    name: 'Test round',
    starters: ['admin'],
    input: { fields: [{ name: 'note', label: 'Note', type: 'string' }] },
    steps: [
      {
        id: 'round',
        name: 'Round',
        type: 'evaluation',
        orders: { from: '"2026-01-01"', to: '"2026-06-30"', ...orders },
        groups: [{ id: 'residents', name: '居民', weight: 100, scorers: 'requester' }],
        within: 'P30D',
      },
      { id: 'done', name: 'Done', type: 'end' },
    ],
  };
}

function problemsOf(raw: unknown): DefinitionProblem[] {
  const result = validateDefinition(raw, { knownTemplates: new Set(['case-update']) });
  return result.ok ? [] : result.problems;
}

describe('the service orders a round scores by default', () => {
  it('when the shipped definitions are read, then the service orders are those with an acceptance and a feedback step', () => {
    // Arrange
    const files = readdirSync(DEFINITIONS).filter((f) => f.endsWith('.yaml'));

    // Act
    const picked = files
      .map((f) => shipped(f))
      .filter((spec) => isServiceOrderProcess(spec))
      .map((spec) => spec.key as string)
      .sort();

    // Assert
    expect(picked).toEqual([
      'closed-loop-demand',
      'four-step-service',
      'hotline-12345',
      'mediation',
      'micro-wish',
      'order-service',
      'property-54321',
      'three-lists',
      'three-lists-resource',
      'three-orders',
    ]);
  });

  it('when a feedback step sits in a parallel branch, then the process is a service order', () => {
    // Arrange
    const spec = {
      measures: { acceptance: ['serve'] },
      steps: [
        { id: 'serve', type: 'task' },
        { id: 'both', type: 'parallel', branches: [{ name: 'b', steps: [{ type: 'feedback' }] }] },
      ],
    };

    // Act
    const picked = [isServiceOrderProcess(spec), isServiceOrderProcess({ steps: spec.steps })];

    // Assert: without a declared acceptance it is not.
    expect(picked).toEqual([true, false]);
  });

  it('when the shipped round lists its processes, then every one is a shipped process and none is a report, roll-call, admission or round', () => {
    // Arrange
    const round = shipped('evaluation-round.yaml');
    const keys = new Set(
      readdirSync(DEFINITIONS)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => f.replace(/\.yaml$/, '')),
    );

    // Act
    const step = (round.steps as Array<Record<string, unknown>>).find(
      (s) => s.type === 'evaluation',
    )!;
    const listed = (step.orders as { definitions: string[] }).definitions;

    // Assert
    expect(listed.filter((k) => !keys.has(k))).toEqual([]);
    for (const key of [
      'dispute-report',
      'dispute-screening',
      'quarterly-community',
      'quarterly-round',
      'work-admission',
      'secretary-project',
      'whistle-call',
      'evaluation-round',
    ]) {
      expect(listed).not.toContain(key);
    }
    expect(listed).toEqual(
      expect.arrayContaining(['three-orders', 'grid-event', 'whistle-department', 'hotline-12345']),
    );
  });
});

describe('validateDefinition: the processes of a round', () => {
  it('when a round lists its own process or one process twice, then each is named', () => {
    // Arrange
    const raw = roundWith({ definitions: ['order-service', 'test-round', 'order-service'] });

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([
      {
        path: 'steps[0].orders.definitions[1]',
        message: 'a round cannot score its own process: list the processes whose orders it scores',
      },
      { path: 'steps[0].orders.definitions[2]', message: 'duplicate process "order-service"' },
    ]);
  });

  it('when a round lists distinct other processes or none, then it is valid', () => {
    // Arrange
    const listed = roundWith({ definitions: ['order-service', 'three-orders'] });
    const unlisted = roundWith({});

    // Act
    const problems = [...problemsOf(listed), ...problemsOf(unlisted)];

    // Assert
    expect(problems).toEqual([]);
  });
});

it('when the feedback step sits in a repeated block, then the process is still a service order', () => {
  const spec = {
    measures: { acceptance: ['serve'] },
    steps: [
      { id: 'serve', type: 'task' },
      { id: 'monthly', type: 'repeat', times: 3, steps: [{ id: 'rate', type: 'feedback' }] },
      { id: 'closed', type: 'end' },
    ],
  };
  expect(isServiceOrderProcess(spec)).toBe(true);
  expect(isServiceOrderProcess({ ...spec, steps: [spec.steps[0], spec.steps[2]] })).toBe(false);
});
