import type { SourceProblem } from '../../lang/source';
import {
  findJsonSyntaxError,
  locate,
  MAX_NESTING_DEPTH,
  MAX_SYNTAX_MARKS,
  parseDefinitionSource,
  pathSegments,
  validateDefinitionSource,
} from '../../lang/source';

const options = { knownTemplates: new Set(['case-received']) };

/** Line numbers below refer to this text: keep its layout. */
const YAML_SOURCE = `# a comment line
key: noise-complaint
name: 噪声投诉
starters: [resident]
input:
  fields:
    - name: contactEmail
      label: 邮箱
      type: email
    - { name: address, label: 地址, type: string }
steps:
  - id: acknowledge
    name: 受理回执
    type: notify
    template: case-received
    to: { field: contactEmail }
  - id: wait
    name: 等待
    type: timer
    duration: PT1H
  - id: closed
    name: 办结
    type: end
`;

const JSON_SOURCE = JSON.stringify(
  {
    key: 'noise-complaint',
    name: '噪声投诉',
    starters: ['resident'],
    input: { fields: [{ name: 'contactEmail', label: '邮箱', type: 'email' }] },
    steps: [
      {
        id: 'acknowledge',
        name: '受理回执',
        type: 'notify',
        template: 'case-received',
        to: { field: 'contactEmail' },
      },
      { id: 'closed', name: '办结', type: 'end' },
    ],
  },
  null,
  2,
);

/** The 1-based line and column where `needle` first occurs after `after` (for JSON fixtures). */
function positionOf(text: string, needle: string, after = ''): { line: number; column: number } {
  const offset = text.indexOf(needle, text.indexOf(after));
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

function problemsOf(text: string, format: 'yaml' | 'json'): SourceProblem[] {
  const result = validateDefinitionSource(text, format, options);
  return result.ok ? [] : result.problems;
}

describe('pathSegments', () => {
  it('when a problem path has names and indexes, then they come apart in order', () => {
    // Act
    const segments = pathSegments('steps[2].branches[0].steps[1].next');

    // Assert
    expect(segments).toEqual(['steps', 2, 'branches', 0, 'steps', 1, 'next']);
  });
});

describe('parseDefinitionSource', () => {
  it('when the YAML is well-formed, then it answers the parsed value', () => {
    // Act
    const result = parseDefinitionSource(YAML_SOURCE, 'yaml');

    // Assert
    expect(result).toMatchObject({
      ok: true,
      raw: { key: 'noise-complaint', steps: [{}, {}, {}] },
    });
  });

  it('when the YAML has a syntax error, then the problem has its line and column', () => {
    // Arrange: an unclosed flow sequence on line 3
    const text = 'key: a\nname: b\nstarters: [resident\ninput: {}\n';

    // Act
    const result = parseDefinitionSource(text, 'yaml');

    // Assert
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatchObject({
      path: '',
      message: expect.stringMatching(/^YAML syntax: /) as string,
    });
    expect(problems[0]!.line).toBeGreaterThanOrEqual(3);
    expect(problems[0]!.column).toBeGreaterThanOrEqual(1);
  });

  it('when a YAML mapping repeats a key, then it is a problem at the second one', () => {
    // Act
    const result = parseDefinitionSource('key: a\nname: b\nkey: c\n', 'yaml');

    // Assert
    expect(result).toEqual({
      ok: false,
      problems: [
        { path: '', message: expect.stringContaining('unique') as string, line: 3, column: 1 },
      ],
    });
  });

  it('when the JSON is well-formed, then it answers the same value as JSON.parse', () => {
    // Act
    const result = parseDefinitionSource(JSON_SOURCE, 'json');

    // Assert
    expect(result).toEqual({ ok: true, raw: JSON.parse(JSON_SOURCE) as unknown });
  });

  it.each([
    ['a trailing comma', '{\n  "key": "a",\n}', { line: 3, column: 1 }],
    ['a missing comma', '{\n  "key": "a"\n  "name": "b"\n}', { line: 3, column: 3 }],
    ['a bad literal', '{\n  "key": tru\n}', { line: 2, column: 10 }],
    ['an unquoted key', '{\n  key: "a"\n}', { line: 2, column: 3 }],
    ['a comment', '{\n  # note\n  "key": "a"\n}', { line: 2, column: 3 }],
    ['a bad escape', '{ "key": "a\\q" }', { line: 1, column: 13 }],
    ['a truncated document', '{\n  "key": "a",\n  "steps": [', { line: 3, column: 13 }],
    ['text after the document', '{}\n{}', { line: 2, column: 1 }],
  ])(
    'when the JSON has %s (valid YAML or not), then it is a syntax problem at the first wrong character',
    (_what, text, position) => {
      // Act
      const result = parseDefinitionSource(text, 'json');

      // Assert
      expect(result).toEqual({
        ok: false,
        problems: [
          { path: '', message: expect.stringMatching(/^JSON syntax: /) as string, ...position },
        ],
      });
    },
  );

  it('when a JSON object repeats a key, then it is a problem (JSON.parse would keep the last)', () => {
    // Act
    const result = parseDefinitionSource('{\n  "key": "a",\n  "key": "b"\n}', 'json');

    // Assert
    expect(result).toEqual({
      ok: false,
      problems: [
        { path: '', message: expect.stringContaining('unique') as string, line: 3, column: 3 },
      ],
    });
  });

  it('when the JSON starts with a byte-order mark, then it parses', () => {
    // Act
    const result = parseDefinitionSource(`\uFEFF${JSON_SOURCE}`, 'json');

    // Assert
    expect(result.ok).toBe(true);
  });

  it('when YAML aliases would expand without bound, then it is a problem, not a hang', () => {
    // Arrange: each level doubles the one before it
    const lines = ['a0: &a0 [x, x]'];
    for (let i = 1; i < 40; i++) lines.push(`a${i}: &a${i} [*a${i - 1}, *a${i - 1}]`);

    // Act
    const result = parseDefinitionSource(lines.join('\n'), 'yaml');

    // Assert
    expect(result.ok).toBe(false);
  });
});

describe('limits on the size of a definition', () => {
  /** A valid definition's lines, to which the tests add. */
  const head = [
    'key: big',
    'name: Big',
    'starters: [admin]',
    'input:',
    '  fields: []',
    'steps:',
    '  - { id: closed, name: end, type: end }',
  ];

  it('when the text has more syntax marks than the limit, then it is refused naming the count and the limit, before parsing', () => {
    // Arrange: 6,000 keys, two marks each (":" and the line break)
    const keys = Array.from({ length: 6_000 }, (_, i) => `key${i}: x`);
    const text = [...head, ...keys].join('\n');

    // Act
    const result = validateDefinitionSource(text, 'yaml', options);

    // Assert
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          path: '',
          message: `The definition is too large to check: it has 12,024 syntax marks (line breaks, keys, list items, brackets); at most ${MAX_SYNTAX_MARKS.toLocaleString('en')} are accepted`,
        },
      ],
    });
  });

  it('when many keys stay under the limit, then they are checked as usual and duplicates are still found', () => {
    // Arrange: 2,000 keys, the last one repeating the first
    const keys = Array.from({ length: 2_000 }, (_, i) => `key${i}: x`);
    const text = [...head, ...keys, 'key0: y'].join('\n');

    // Act
    const result = parseDefinitionSource(text, 'yaml');

    // Assert
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          path: '',
          message: 'YAML syntax: Map keys must be unique',
          line: head.length + 2_001,
          column: 1,
        },
      ],
    });
  });

  const tooDeep = MAX_NESTING_DEPTH + 1;
  it.each([
    ['YAML flow lists', 'yaml', `${'['.repeat(1_000)}${']'.repeat(1_000)}`, 1, tooDeep],
    ['JSON arrays', 'json', `${'['.repeat(1_000)}${']'.repeat(1_000)}`, 1, tooDeep],
    ['YAML block lists on one line', 'yaml', `${'- '.repeat(1_000)}x`, 1, 2 * tooDeep - 1],
    [
      'YAML maps',
      'yaml',
      Array.from({ length: 100 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'),
      tooDeep,
      tooDeep,
    ],
  ] as const)(
    'when %s nest deeper than the limit, then it is refused naming the limit, at the first one too deep',
    (_, format, text, line, column) => {
      // Act
      const result = validateDefinitionSource(text, format, options);

      // Assert
      expect(result).toEqual({
        ok: false,
        problems: [
          {
            path: '',
            message: `The definition nests lists and maps more than ${MAX_NESTING_DEPTH} levels deep; at most ${MAX_NESTING_DEPTH} are accepted`,
            line,
            column,
          },
        ],
      });
    },
  );

  it('when lists nest exactly to the limit, then the text parses', () => {
    // Arrange
    const text = `${'['.repeat(MAX_NESTING_DEPTH)}${']'.repeat(MAX_NESTING_DEPTH)}`;

    // Act
    const result = parseDefinitionSource(text, 'json');

    // Assert
    expect(result.ok).toBe(true);
  });

  it('when a text was refused for a limit, then locate finds nothing to point at', () => {
    // Act
    const found = locate('['.repeat(1_000), 'yaml', 'key');

    // Assert
    expect(found).toBeNull();
  });
});

describe('findJsonSyntaxError', () => {
  it.each(['{}', '[]', '"x"', '-0.5e+3', ' { "a": [1, true, null, {"b": "\\u00e9\\n"}] } '])(
    'when %s is valid JSON, then it finds nothing (it agrees with JSON.parse)',
    (text) => {
      // Act
      const found = findJsonSyntaxError(text);

      // Assert
      expect(() => JSON.parse(text) as unknown).not.toThrow();
      expect(found).toBeNull();
    },
  );
});

describe('findJsonSyntaxError: depth', () => {
  it('when arrays nest deeper than the limit, then it stops there instead of running out of stack', () => {
    // Act
    const found = findJsonSyntaxError('['.repeat(20_000));

    // Assert
    expect(found).toEqual({
      offset: MAX_NESTING_DEPTH,
      message: `nesting deeper than ${MAX_NESTING_DEPTH} levels`,
    });
  });
});

describe('locate: YAML', () => {
  it.each([
    ['key', { line: 2, column: 6 }],
    ['steps', { line: 11, column: 1 }],
    ['steps[1]', { line: 17, column: 5 }],
    ['steps[1].duration', { line: 20, column: 15 }],
    ['steps[0].to', { line: 16, column: 5 }],
    ['steps[0].to.field', { line: 16, column: 18 }],
    ['input.fields[0].name', { line: 7, column: 13 }],
    ['input.fields[1].name', { line: 10, column: 15 }],
    ['', { line: 2, column: 1 }],
  ])('when the path is %s, then it points at that node', (path, position) => {
    // Act
    const found = locate(YAML_SOURCE, 'yaml', path);

    // Assert
    expect(found).toEqual(position);
  });

  it.each([
    ['steps[1].template', 'steps[1]', { line: 17, column: 5 }],
    ['steps[7].next', 'steps', { line: 11, column: 1 }],
    ['input.fields[1].options', 'input.fields[1]', { line: 10, column: 7 }],
    ['deadlines[0].within', 'the document', { line: 2, column: 1 }],
  ])(
    'when %s does not exist, then it points at the nearest node that does (%s)',
    (path, _ancestor, position) => {
      // Act
      const found = locate(YAML_SOURCE, 'yaml', path);

      // Assert
      expect(found).toEqual(position);
    },
  );

  it('when the path goes through an alias, then it points into what the alias stands for', () => {
    // Arrange
    const text = 'shared: &to\n  field: contactEmail\nsteps:\n  - id: a\n    to: *to\n';

    // Act
    const found = locate(text, 'yaml', 'steps[0].to.field');

    // Assert
    expect(found).toEqual({ line: 2, column: 10 });
  });

  it('when the text is empty, then there is nothing to point at', () => {
    // Act
    const found = locate('', 'yaml', 'steps');

    // Assert
    expect(found).toBeNull();
  });
});

describe('locate: JSON', () => {
  it.each([
    ['steps[0].to.field', '"contactEmail"', '"to"'],
    ['input.fields[0].name', '"contactEmail"', '"fields"'],
    ['steps[1]', '{', '"field"'],
    // The end step leaves status to its default: the step itself.
    ['steps[1].status', '{', '"field"'],
  ])('when the path is %s, then it points at the node in the JSON text', (path, needle, after) => {
    // Act
    const found = locate(JSON_SOURCE, 'json', path);

    // Assert
    expect(found).toEqual(positionOf(JSON_SOURCE, needle, after));
  });
});

describe('validateDefinitionSource', () => {
  it('when the YAML definition is valid, then it answers the spec with defaults filled in', () => {
    // Act
    const result = validateDefinitionSource(YAML_SOURCE, 'yaml', options);

    // Assert
    expect(result).toMatchObject({
      ok: true,
      spec: { key: 'noise-complaint', roles: [], steps: [{}, {}, { status: 'closed' }] },
    });
  });

  it('when a YAML definition has several problems, then each has its path, line and column', () => {
    // Arrange
    const text = YAML_SOURCE.replace('duration: PT1H', 'duration: one hour').replace(
      'name: address',
      'name: home.address',
    );

    // Act
    const problems = problemsOf(text, 'yaml');

    // Assert
    expect(problems).toEqual(
      expect.arrayContaining([
        {
          path: 'input.fields[1].name',
          message: expect.stringContaining('"."') as string,
          line: 10,
          column: 15,
        },
        {
          path: 'steps[1].duration',
          message: expect.stringContaining('not a duration') as string,
          line: 20,
          column: 15,
        },
      ]),
    );
  });

  it('when a well-formed YAML definition has semantic problems, then each is located', () => {
    // Arrange
    const text = YAML_SOURCE.replace('template: case-received', 'template: no-such-mail').replace(
      '    type: timer\n',
      '    type: timer\n    next: nowhere\n',
    );

    // Act
    const problems = problemsOf(text, 'yaml');

    // Assert
    expect(problems).toEqual(
      expect.arrayContaining([
        {
          path: 'steps[0].template',
          message: 'unknown mail template "no-such-mail" (known: case-received)',
          line: 15,
          column: 15,
        },
        { path: 'steps[1].next', message: 'unknown step "nowhere"', line: 20, column: 11 },
      ]),
    );
  });

  it('when a required key is missing, then the problem points at the object that lacks it', () => {
    // Arrange
    const text = YAML_SOURCE.replace('    template: case-received\n', '');

    // Act
    const problems = problemsOf(text, 'yaml');

    // Assert
    expect(problems).toContainEqual({
      path: 'steps[0].template',
      message: expect.any(String) as string,
      line: 12,
      column: 5,
    });
  });

  it('when a JSON definition has a problem, then it is located in the JSON text', () => {
    // Arrange
    const text = JSON_SOURCE.replace('"template": "case-received"', '"template": "no-such-mail"');

    // Act
    const problems = problemsOf(text, 'json');

    // Assert
    expect(problems).toEqual([
      {
        path: 'steps[0].template',
        message: 'unknown mail template "no-such-mail" (known: case-received)',
        ...positionOf(text, '"no-such-mail"'),
      },
    ]);
  });

  it('when the source does not parse, then only the syntax problems are reported', () => {
    // Act
    const problems = problemsOf('key: [a\n', 'yaml');

    // Assert
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.message.startsWith('YAML syntax: '))).toBe(true);
  });

  it('when the document is empty, then the problem has no position', () => {
    // Act
    const problems = problemsOf('', 'yaml');

    // Assert
    expect(problems).toEqual([{ path: '', message: expect.any(String) as string }]);
  });
});
