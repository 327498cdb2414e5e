import type { DefinitionSpec, StepSpec } from '../../lang/definition';
import {
  nextStepId,
  startStepId,
  stepLists,
  successorsOf,
  topLevel,
  withLanguageDefaults,
} from '../../lang/steps';

function spec(steps: DefinitionSpec['steps'], start?: string): DefinitionSpec {
  return {
    key: 'test-process',
    name: 'Test',
    starters: ['resident'],
    roles: [],
    input: { fields: [] },
    deadlines: [],
    ...(start !== undefined ? { start } : {}),
    steps,
  };
}

const steps: DefinitionSpec['steps'] = [
  { id: 'wait', name: 'Wait', type: 'timer', duration: 'PT1H' },
  {
    id: 'remind',
    name: 'Remind',
    type: 'notify',
    template: 'case-received',
    to: { address: 'a@example.org' },
    next: 'done',
  },
  { id: 'skipped', name: 'Skipped', type: 'timer', duration: 'PT1M' },
  { id: 'done', name: 'Done', type: 'end', status: 'closed' },
];

function stepOf(id: string, list = steps): StepSpec {
  return list.find((s) => s.id === id)!;
}

describe('nextStepId', () => {
  it('when a step has no next, then the following step in the list comes next', () => {
    // Act
    const next = nextStepId(topLevel(spec(steps)), stepOf('wait'));

    // Assert
    expect(next).toBe('remind');
  });

  it('when a step names its next, then that step comes next', () => {
    // Act
    const next = nextStepId(topLevel(spec(steps)), stepOf('remind'));

    // Assert
    expect(next).toBe('done');
  });

  it('when the step is an end step, then there is no next step', () => {
    // Act
    const afterEnd = nextStepId(topLevel(spec(steps)), stepOf('done'));

    // Assert
    expect(afterEnd).toBeUndefined();
  });

  it('when the last step of a list has no next, then there is no next step', () => {
    // Arrange
    const only: StepSpec[] = [{ id: 'only', name: 'Only', type: 'timer', duration: 'PT1M' }];

    // Act
    const next = nextStepId(topLevel(spec(only)), only[0]!);

    // Assert
    expect(next).toBeUndefined();
  });
});

describe('startStepId', () => {
  it('when start is set, then it is the start step; otherwise the first step', () => {
    // Act
    const explicit = startStepId(spec(steps, 'remind'));
    const implicit = startStepId(spec(steps));

    // Assert
    expect(explicit).toBe('remind');
    expect(implicit).toBe('wait');
  });
});

describe('step lists of a parallel step', () => {
  const withParallel = spec([
    {
      id: 'both',
      name: 'Both',
      type: 'parallel',
      join: 'all',
      branches: [
        { name: 'A', steps: [{ id: 'a1', name: 'A1', type: 'timer', duration: 'PT1M' }] },
        { name: 'B', steps: [{ id: 'b1', name: 'B1', type: 'timer', duration: 'PT2M' }] },
      ],
    },
    { id: 'done', name: 'Done', type: 'end', status: 'closed' },
  ]);

  it('when a definition has a parallel step, then each branch is its own list with its path', () => {
    // Act
    const lists = stepLists(withParallel);

    // Assert
    expect(lists.map((l) => [l.path, l.isBranch])).toEqual([
      ['steps', false],
      ['steps[0].branches[0].steps', true],
      ['steps[0].branches[1].steps', true],
    ]);
    expect(lists[2]?.steps.map((s) => s.id)).toEqual(['b1']);
  });

  it('when the last step of a branch ends, then it falls through to the end of the branch', () => {
    // Arrange
    const branch = stepLists(withParallel)[1]!;

    // Act
    const next = nextStepId(branch, branch.steps[0]!);
    const successors = successorsOf(branch.steps[0]!);

    // Assert
    expect(next).toBeUndefined();
    expect(successors).toEqual({ targets: [], fallsThrough: true });
  });
});

describe('successorsOf', () => {
  it('when a task has outcomes with and without targets, then it lists the targets and falls through', () => {
    // Arrange
    const task: StepSpec = {
      id: 'serve',
      name: 'Serve',
      type: 'task',
      candidates: [{ role: 'grid-worker', unit: 'case' }],
      outcomes: [
        { id: 'done', name: 'Done', requiresComment: false },
        { id: 'refuse', name: 'Refuse', next: 'rejected', requiresComment: true },
      ],
      onReturn: 'dispatch',
      announce: true,
      deadlines: [],
    };

    // Act
    const successors = successorsOf(task);

    // Assert
    expect(successors).toEqual({ targets: ['rejected', 'dispatch'], fallsThrough: true });
  });

  it('when a decision has branches, then its successors are the branches and otherwise', () => {
    // Act
    const successors = successorsOf({
      id: 'route',
      name: 'Route',
      type: 'decision',
      branches: [{ when: "data.kind == 'a'", next: 'a' }],
      otherwise: 'b',
    });

    // Assert
    expect(successors).toEqual({ targets: ['a', 'b'], fallsThrough: false });
  });
});

describe('withLanguageDefaults', () => {
  it('when a snapshot predates roles and case deadlines, then they read as empty lists', () => {
    // Arrange: a spec stored by the first version of the language
    const stored = {
      key: 'old',
      name: 'Old',
      starters: ['resident'],
      input: { fields: [] },
      steps,
    };

    // Act
    const upgraded = withLanguageDefaults(stored as unknown as DefinitionSpec);

    // Assert
    expect(upgraded.roles).toEqual([]);
    expect(upgraded.deadlines).toEqual([]);
    expect(upgraded.steps).toBe(steps);
  });
});
