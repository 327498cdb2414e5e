import { validateDefinition } from '../../lang/check';

const options = { knownTemplates: new Set(['case-received']) };

function validDefinition(): Record<string, unknown> {
  return {
    key: 'test-process',
    name: 'Test process',
    starters: ['resident'],
    input: { fields: [{ name: 'contactEmail', label: 'Email', type: 'email' }] },
    steps: [
      {
        id: 'ack',
        name: 'Ack',
        type: 'notify',
        template: 'case-received',
        to: { field: 'contactEmail' },
      },
      { id: 'wait', name: 'Wait', type: 'timer', duration: 'PT5M' },
      { id: 'done', name: 'Done', type: 'end' },
    ],
  };
}

function pathsOf(raw: unknown): string[] {
  const result = validateDefinition(raw, options);
  return result.ok ? [] : result.problems.map((p) => p.path);
}

describe('validateDefinition: schema', () => {
  it('when the definition is well-formed, then it is valid and defaults are filled in', () => {
    // Arrange
    const raw = validDefinition();

    // Act
    const result = validateDefinition(raw, options);

    // Assert
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.spec.input.fields[0]).toMatchObject({ required: false, personal: false });
    expect(result.spec.steps[2]).toMatchObject({ type: 'end', status: 'closed' });
  });

  it.each(['contact.email', '$where', '_hidden', 'with space'])(
    'when a field is named %j, then it is rejected at input.fields[i].name (storage safety)',
    (name) => {
      // Arrange
      const raw = {
        ...validDefinition(),
        input: {
          fields: [
            { name: 'contactEmail', label: 'Email', type: 'email' },
            { name, label: 'Bad', type: 'string' },
          ],
        },
      };

      // Act
      const paths = pathsOf(raw);

      // Assert
      expect(paths).toEqual(['input.fields[1].name']);
    },
  );

  it('when a timer has a bad duration, then it is rejected at steps[i].duration', () => {
    // Arrange
    const raw = validDefinition();
    (raw.steps as Array<Record<string, unknown>>)[1] = {
      id: 'wait',
      name: 'Wait',
      type: 'timer',
      duration: '5 minutes',
    };

    // Act
    const result = validateDefinition(raw, options);

    // Assert
    expect(result).toEqual({
      ok: false,
      problems: [
        { path: 'steps[1].duration', message: expect.stringContaining('ISO 8601') as string },
      ],
    });
  });

  it('when a step has an unknown type, then it is rejected at that step', () => {
    // Arrange
    const raw = validDefinition();
    (raw.steps as Array<Record<string, unknown>>)[1] = { id: 'wait', name: 'Wait', type: 'sleep' };

    // Act
    const paths = pathsOf(raw);

    // Assert
    expect(paths).toHaveLength(1);
    expect(paths[0]).toMatch(/^steps\[1\]/);
  });

  it('when starters name an unknown role, then it is rejected at starters[i]', () => {
    // Arrange
    const raw = { ...validDefinition(), starters: ['resident', 'mayor'] };

    // Act
    const paths = pathsOf(raw);

    // Assert
    expect(paths).toEqual(['starters[1]']);
  });

  it('when the definition has an unknown property, then it is rejected naming the property', () => {
    // Arrange
    const raw = { ...validDefinition(), owner: 'someone' };

    // Act
    const result = validateDefinition(raw, options);

    // Assert
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]?.message).toContain('owner');
  });

  it('when a step has an unknown property, then it is rejected at that step', () => {
    // Arrange
    const raw = validDefinition();
    (raw.steps as Array<Record<string, unknown>>)[2] = {
      id: 'done',
      name: 'Done',
      type: 'end',
      next: 'ack',
    };

    // Act
    const result = validateDefinition(raw, options);

    // Assert
    expect(result).toEqual({
      ok: false,
      problems: [{ path: 'steps[2]', message: expect.stringContaining('next') as string }],
    });
  });

  it('when several schema errors exist, then all are reported together', () => {
    // Arrange
    const raw = { ...validDefinition(), key: 'X', starters: [], steps: [] };

    // Act
    const paths = pathsOf(raw);

    // Assert
    expect(paths).toEqual(expect.arrayContaining(['key', 'starters', 'steps']));
  });
});
