import type { DefinitionSpec } from '../../common/definition';
import { nextStepId, startStepId } from '../../common/steps';

function spec(steps: DefinitionSpec['steps'], start?: string): DefinitionSpec {
  return {
    key: 'test-process',
    name: 'Test',
    starters: ['resident'],
    input: { fields: [] },
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

describe('nextStepId', () => {
  it('when a step has no next, then the following step in the list comes next', () => {
    // Act
    const next = nextStepId(spec(steps), 'wait');

    // Assert
    expect(next).toBe('remind');
  });

  it('when a step names its next, then that step comes next', () => {
    // Act
    const next = nextStepId(spec(steps), 'remind');

    // Assert
    expect(next).toBe('done');
  });

  it('when the step is an end step or unknown, then there is no next step', () => {
    // Act
    const afterEnd = nextStepId(spec(steps), 'done');
    const afterUnknown = nextStepId(spec(steps), 'missing');

    // Assert
    expect(afterEnd).toBeUndefined();
    expect(afterUnknown).toBeUndefined();
  });

  it('when the last step is not an end step and has no next, then there is no next step', () => {
    // Arrange
    const lastIsTimer = spec([{ id: 'only', name: 'Only', type: 'timer', duration: 'PT1M' }]);

    // Act
    const next = nextStepId(lastIsTimer, 'only');

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
