import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { DefinitionProblem } from '../../lang/check';
import { validateDefinition } from '../../lang/check';
import { OBJECT_MEMBER_NAMES } from '../../lang/definition';

const options = { knownTemplates: new Set(['case-received']) };

function shippedDefinition(): Record<string, unknown> {
  const file = path.join(__dirname, '..', '..', 'definitions', 'resident-request.yaml');
  return YAML.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

function definitionWith(steps: unknown[], extra: Record<string, unknown> = {}) {
  return {
    key: 'test-process',
    name: 'Test process',
    starters: ['resident'],
    input: {
      fields: [
        { name: 'contactEmail', label: 'Email', type: 'email' },
        { name: 'phone', label: 'Phone', type: 'phone' },
      ],
    },
    steps,
    ...extra,
  };
}

function problem(path: string, messagePart: string): DefinitionProblem {
  return { path, message: expect.stringContaining(messagePart) as string };
}

function problemsOf(raw: unknown): DefinitionProblem[] {
  const result = validateDefinition(raw, options);
  return result.ok ? [] : result.problems;
}

describe('validateDefinition: the shipped definition', () => {
  it('when the shipped resident-request.yaml is validated, then it is valid', () => {
    // Arrange
    const raw = shippedDefinition();

    // Act
    const result = validateDefinition(raw, options);

    // Assert
    expect(result).toMatchObject({ ok: true, spec: { key: 'resident-request' } });
  });
});

describe('validateDefinition: outcomes that need fields', () => {
  it('when an outcome requires a field its form does not have, then the reference is named', () => {
    // Arrange
    const raw = definitionWith([
      {
        id: 'sort',
        name: 'Sort',
        type: 'task',
        candidates: [{ role: 'dispatcher', unit: 'community' }],
        announce: false,
        form: { fields: [{ name: 'unitId', label: 'Unit', type: 'unit' }] },
        outcomes: [
          { id: 'send', name: 'Send', requires: ['unitId'] },
          { id: 'hold', name: 'Hold', requires: ['unitId', 'reason'] },
        ],
      },
      { id: 'done', name: 'Done', type: 'end' },
    ]);

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([
      problem('steps[0].outcomes[1].requires[1]', '"reason" is not a field'),
    ]);
  });
});

describe('validateDefinition: references and graph', () => {
  it('when a definition has many problems, then every one is reported at once with its path', () => {
    // Arrange
    const raw = definitionWith([
      {
        id: 'ack',
        name: 'Ack',
        type: 'notify',
        template: 'case-received',
        to: { field: 'nobody' },
      },
      { id: 'wait', name: 'Wait', type: 'timer', duration: 'PT5M', next: 'nowhere' },
      { id: 'ack', name: 'Again', type: 'end' },
      {
        id: 'sms',
        name: 'Sms',
        type: 'notify',
        template: 'no-such-template',
        to: { field: 'phone' },
      },
      { id: 'dangling', name: 'Dangling', type: 'timer', duration: 'PT1M' },
    ]);

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual(
      expect.arrayContaining([
        problem('steps[2].id', 'duplicate step id "ack"'),
        problem('steps[1].next', '"nowhere"'),
        problem('steps[3].template', '"no-such-template"'),
        problem('steps[0].to.field', 'unknown field "nobody"'),
        problem('steps[3].to.field', 'not of type email'),
        problem('steps[4]', 'last step must be an end step'),
        problem('steps[3]', 'unreachable'),
      ]),
    );
  });

  it('when a step cannot be reached from the start, then it is reported as unreachable', () => {
    // Arrange
    const raw = definitionWith([
      {
        id: 'ack',
        name: 'Ack',
        type: 'notify',
        template: 'case-received',
        to: { field: 'contactEmail' },
        next: 'done',
      },
      { id: 'orphan', name: 'Orphan', type: 'timer', duration: 'PT1M' },
      { id: 'done', name: 'Done', type: 'end' },
    ]);

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([{ path: 'steps[1]', message: 'step "orphan" is unreachable' }]);
  });

  it('when the steps loop without an end, then no path to an end step is reported', () => {
    // Arrange
    const raw = definitionWith([
      { id: 'wait', name: 'Wait', type: 'timer', duration: 'PT1H' },
      {
        id: 'remind',
        name: 'Remind',
        type: 'notify',
        template: 'case-received',
        to: { address: 'ops@example.org' },
        next: 'wait',
      },
    ]);

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([
      { path: 'steps', message: 'no path from the start step reaches an end step' },
    ]);
  });

  it('when start names an unknown step, then the problem is reported at start', () => {
    // Arrange
    const raw = definitionWith([{ id: 'done', name: 'Done', type: 'end' }], { start: 'begin' });

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toContainEqual({ path: 'start', message: 'unknown step "begin"' });
  });

  it('when start names a later step, then the earlier steps are unreachable', () => {
    // Arrange
    const raw = definitionWith(
      [
        { id: 'wait', name: 'Wait', type: 'timer', duration: 'PT1H' },
        { id: 'done', name: 'Done', type: 'end' },
      ],
      { start: 'done' },
    );

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([{ path: 'steps[0]', message: 'step "wait" is unreachable' }]);
  });

  it('when two fields share a name or min exceeds max, then both are reported', () => {
    // Arrange
    const raw = {
      ...definitionWith([{ id: 'done', name: 'Done', type: 'end' }]),
      input: {
        fields: [
          { name: 'age', label: 'Age', type: 'integer', min: 10, max: 5 },
          { name: 'age', label: 'Age again', type: 'integer' },
        ],
      },
    };

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: 'input.fields[0].min', message: 'min is greater than max' },
        { path: 'input.fields[1].name', message: 'duplicate field "age"' },
      ]),
    );
  });
});

describe('validateDefinition: claim windows and case reminders', () => {
  const pool = (extra: Record<string, unknown>) => ({
    id: 'pool',
    name: 'Pool',
    type: 'claim',
    candidates: [{ role: 'liaison', unitsOfType: 'cobuilding', under: 'street' }],
    ...extra,
  });

  it('when a claim pool has a window but nowhere to go when too few claim, then onUnclaimed is asked for', () => {
    // Arrange
    const raw = definitionWith([
      pool({ within: '3 working days' }),
      { id: 'done', name: 'Done', type: 'end' },
    ]);

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toContainEqual(problem('steps[0].onUnclaimed', 'needs onUnclaimed'));
  });

  it('when a claim pool names onUnclaimed without a window, then the window is asked for', () => {
    // Arrange
    const raw = definitionWith([
      pool({ onUnclaimed: 'done' }),
      { id: 'done', name: 'Done', type: 'end' },
    ]);

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toContainEqual(problem('steps[0].onUnclaimed', 'needs a claim window'));
  });

  it('when a case deadline reminds its default recipient (the assignee), then it is reported: a case has none', () => {
    // Arrange
    const raw = definitionWith([{ id: 'done', name: 'Done', type: 'end' }], {
      deadlines: [{ id: 'all', name: 'All', within: 'P5D', reminders: [{ before: 'PT1H' }] }],
    });

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toContainEqual(problem('deadlines[0].reminders[0].notify', 'has no assignee'));
  });
});

describe('validateDefinition: units from expressions and sub-process fan-out', () => {
  const end = { id: 'closed', name: 'closed', type: 'end' };

  it('when a unit reference names a step the process does not have, then the expression is reported at of.expression', () => {
    // Arrange
    const raw = definitionWith([
      {
        id: 'serve',
        name: 'serve',
        type: 'task',
        announce: false,
        candidates: [
          { role: 'officer', unit: { of: { expression: 'steps.dispatch.form.unitId' } } },
        ],
        outcomes: [{ id: 'done', name: 'done' }],
      },
      end,
    ]);

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([
      problem('steps[0].candidates[0].unit.of.expression', 'unknown step "steps.dispatch"'),
    ]);
  });

  it('when item is used in a sub-process without forEach, then it is an unknown name; with forEach it is allowed', () => {
    // Arrange
    const spawn = (extra: Record<string, unknown>) =>
      definitionWith([
        {
          id: 'call',
          name: 'call',
          type: 'subprocess',
          definition: 'child',
          unit: 'item',
          ...extra,
        },
        end,
      ]);

    // Act
    const without = problemsOf(spawn({}));
    const withList = problemsOf(spawn({ forEach: "['u1', 'u2']", data: { lead: 'index == 0' } }));

    // Assert
    expect(without.map((p) => p.path)).toEqual(['steps[0].unit']);
    expect(withList).toEqual([]);
  });

  it('when maxItems is set on a single-valued field, then it is reported', () => {
    // Arrange
    const raw = definitionWith([end]);
    (raw.input as { fields: unknown[] }).fields.push({
      name: 'departments',
      label: 'departments',
      type: 'unit',
      maxItems: 3,
    });

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([problem('input.fields[2].maxItems', 'needs multiple: true')]);
  });

  it('when holding is set on a field that is not a person, or names an unknown role, then each is reported', () => {
    // Arrange
    const raw = definitionWith([end]);
    (raw.input as { fields: unknown[] }).fields.push(
      { name: 'department', label: 'department', type: 'unit', holding: 'volunteer' },
      { name: 'volunteer', label: 'volunteer', type: 'person', holding: 'volunter' },
      { name: 'helper', label: 'helper', type: 'person', holding: 'volunteer' },
    );

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([
      problem('input.fields[2].holding', 'holding is for person fields'),
      problem('input.fields[3].holding', 'unknown role "volunter": did you mean "volunteer"?'),
    ]);
  });
});

describe('validateDefinition: names every object already has', () => {
  it('when the reserved-name list is compared with Object.prototype, then it names every member', () => {
    // Arrange
    const members = Object.getOwnPropertyNames(Object.prototype);

    // Act
    const missing = members.filter((name) => !OBJECT_MEMBER_NAMES.has(name));

    // Assert
    expect(missing).toEqual([]);
  });

  it.each(['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'])(
    'when an input field is named %s, then the field name is refused as reserved',
    (name) => {
      // Arrange
      const raw = definitionWith([{ id: 'done', name: 'Done', type: 'end' }]);
      raw.input.fields.push({ name, label: 'Reserved', type: 'email' });

      // Act
      const problems = problemsOf(raw);

      // Assert
      expect(problems).toEqual([
        problem('input.fields[2].name', `"${name}" is reserved: every JavaScript object has`),
      ]);
    },
  );

  it('when a category code, a step id, an outcome id and a role key are "constructor", then each is refused with its path', () => {
    // Arrange
    const raw = definitionWith(
      [
        {
          id: 'constructor',
          name: 'Sort',
          type: 'task',
          candidates: [{ role: 'dispatcher', unit: 'community' }],
          outcomes: [{ id: 'constructor', name: 'Done' }],
        },
        { id: 'done', name: 'Done', type: 'end' },
      ],
      {
        categories: [{ code: 'constructor', name: '垃圾分类' }],
        roles: [{ key: 'constructor', label: 'Builder' }],
      },
    );

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual(
      expect.arrayContaining([
        problem('categories[0].code', '"constructor" is reserved'),
        problem('roles[0].key', '"constructor" is reserved'),
        problem('steps[0].id', '"constructor" is reserved'),
        problem('steps[0].outcomes[0].id', '"constructor" is reserved'),
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('when an evaluation criterion is named toString, then it is refused as reserved', () => {
    // Arrange
    const raw = definitionWith([
      {
        id: 'round',
        name: 'Round',
        type: 'evaluation',
        orders: { from: '"2026-01-01"', to: '"2026-06-30"' },
        criteria: [{ id: 'toString', name: '服务质量' }],
        groups: [{ id: 'residents', name: '居民', weight: 100, scorers: 'requester' }],
        within: 'P30D',
      },
      { id: 'done', name: 'Done', type: 'end' },
    ]);

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([problem('steps[0].criteria[0].id', '"toString" is reserved')]);
  });
});

describe('validateDefinition: units from the dispatch catalogue', () => {
  const end = { id: 'closed', name: 'closed', type: 'end' };
  const serveBy = (unit: unknown) =>
    definitionWith([
      {
        id: 'serve',
        name: 'serve',
        type: 'task',
        announce: false,
        candidates: [{ role: 'leader', unit }],
        outcomes: [{ id: 'done', name: 'done' }],
      },
      end,
    ]);

  it('when a task goes to the unit the catalogue names with a fallback role in the street, then it is valid', () => {
    // Arrange
    const raw = serveBy({
      catalogue: "'water'",
      otherwise: { role: 'dispatcher', unit: 'street' },
    });

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([]);
  });

  it('when the category expression names an unknown field, then it is reported at unit.catalogue', () => {
    // Arrange
    const raw = serveBy({ catalogue: 'data.kind' });

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([
      problem('steps[0].candidates[0].unit.catalogue', 'unknown field "data.kind"'),
    ]);
  });

  it('when the fallback names an unknown role or an unknown field, then each is reported at otherwise', () => {
    // Arrange
    const withRole = serveBy({
      catalogue: "'water'",
      otherwise: { role: 'arbiter', unit: 'street' },
    });
    const withField = serveBy({ catalogue: "'water'", otherwise: { of: { field: 'nope' } } });

    // Act
    const roleProblems = problemsOf(withRole);
    const fieldProblems = problemsOf(withField);

    // Assert
    expect(roleProblems).toEqual([
      problem('steps[0].candidates[0].unit.otherwise.role', 'unknown role "arbiter"'),
    ]);
    expect(fieldProblems).toEqual([
      problem('steps[0].candidates[0].unit.otherwise.of.field', 'unknown field "nope"'),
    ]);
  });

  it('when the catalogue reference has an unknown key, then the schema refuses it', () => {
    // Arrange
    const raw = serveBy({ catalogue: "'water'", fallback: 'street' });

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]!.path).toContain('steps[0].candidates[0]');
  });
});

describe('validateDefinition: what a publish step shows', () => {
  const steps = (show: string[]) => [
    {
      id: 'assess',
      name: '考核',
      type: 'task',
      candidates: [{ role: 'secretary', unit: 'parent' }],
      form: { fields: [{ name: 'score', label: '考核得分', type: 'integer' }] },
      outcomes: [{ id: 'assessed', name: '已考核' }],
      announce: false,
    },
    { id: 'wall', name: '公示', type: 'publish', title: '结果', show },
    { id: 'closed', name: '办结', type: 'end' },
  ];

  it('when show names a task form field as steps.<step>.form.<field>, then the definition is valid', () => {
    // Arrange
    const raw = definitionWith(steps(['phone', 'steps.assess.form.score']));

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([]);
  });

  it('when show names an unknown step or a field the form lacks, then each entry is reported', () => {
    // Arrange
    const raw = definitionWith(
      steps(['steps.nowhere.form.score', 'steps.assess.form.grade', 'steps.wall.form.title']),
    );

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([
      problem('steps[1].show[0]', 'unknown task step "nowhere"'),
      problem('steps[1].show[1]', 'step "assess" has no form field "grade"'),
      problem('steps[1].show[2]', 'unknown task step "wall"'),
    ]);
  });
});

describe('validateDefinition: a limit per unit', () => {
  it('when limit.per names an unknown field or a list field, then each is reported at limit.per', () => {
    // Arrange
    const raw = definitionWith([{ id: 'done', name: '完成', type: 'end' }], {
      input: {
        fields: [
          { name: 'year', label: '年度', type: 'integer' },
          { name: 'units', label: '单位', type: 'unit', multiple: true },
        ],
      },
      limit: { max: 2, per: ['year', 'nope', 'units'], rule: '每年至多 2 件' },
    });

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([
      problem('limit.per[1]', 'unknown field "nope"'),
      problem('limit.per[2]', '"units" holds a list'),
    ]);
  });
});

describe('validateDefinition: mistakes that used to pass silently', () => {
  const review = {
    id: 'review',
    name: 'Review',
    type: 'task',
    announce: false,
    candidates: [{ role: 'dispatcher', unit: 'community' }],
    form: { fields: [{ name: 'note', label: 'Note', type: 'string' }] },
    outcomes: [{ id: 'ok', name: 'OK' }],
  };
  const end = { id: 'done', name: 'Done', type: 'end' };
  const decide = (when: string) => ({
    id: 'gate',
    name: 'Gate',
    type: 'decision',
    branches: [{ when, next: 'done' }],
    otherwise: 'done',
  });

  it('when an expression reads a property a step does not leave (steps.review.visit), then the step and what it has are named', () => {
    // Act
    const problems = problemsOf(definitionWith([review, decide('steps.review.visit > 1'), end]));

    // Assert
    expect(problems).toEqual([
      problem(
        'steps[1].branches[0].when',
        'steps.review (a task step) has no "visit" (it has: outcome, form, comment, by, status, claimants)',
      ),
    ]);
  });

  it('when a near miss of a property is read, then the right one is suggested', () => {
    // Act
    const problems = problemsOf(
      definitionWith([review, decide("steps.review.outcom == 'ok'"), end]),
    );

    // Assert
    expect(problems).toEqual([
      problem('steps[1].branches[0].when', 'has no "outcom": did you mean "outcome"?'),
    ]);
  });

  it('when an expression reads a form field the task has not got, then its fields are listed; a declared one passes', () => {
    // Act
    const wrong = problemsOf(
      definitionWith([review, decide("steps.review.form.notes == 'x'"), end]),
    );
    const right = problemsOf(
      definitionWith([review, decide("steps.review.form.note == 'x'"), end]),
    );

    // Assert
    expect(wrong).toEqual([
      problem('steps[1].branches[0].when', 'form has no field "notes" (it has: note)'),
    ]);
    expect(right).toEqual([]);
  });

  it('when an expression reads a result of a step that leaves none, then that is said', () => {
    // Arrange
    const wait = { id: 'wait', name: 'Wait', type: 'timer', duration: 'PT1H' };

    // Act
    const problems = problemsOf(definitionWith([wait, decide('steps.wait.status == null'), end]));

    // Assert
    expect(problems).toEqual([
      problem(
        'steps[1].branches[0].when',
        'steps.wait is a timer step, which leaves nothing to read',
      ),
    ]);
  });

  it('when a unit reference reads a text field, then the field and its type are named; a unit field passes', () => {
    // Arrange
    const fields = [
      { name: 'description', label: 'Description', type: 'text' },
      { name: 'department', label: 'Department', type: 'unit' },
    ];
    const taskFor = (field: string) => ({
      ...review,
      candidates: [{ role: 'dispatcher', unit: { of: { field } } }],
    });

    // Act
    const wrong = problemsOf({
      ...definitionWith([taskFor('description'), end]),
      input: { fields },
    });
    const right = problemsOf({
      ...definitionWith([taskFor('department'), end]),
      input: { fields },
    });

    // Assert
    expect(wrong).toEqual([
      problem(
        'steps[0].candidates[0].unit.of.field',
        'field "description" is of type text: a unit reference reads a unit id',
      ),
    ]);
    expect(right).toEqual([]);
  });

  it.each([
    ["data.x == 'a' ? 1 : 2 == 2", 'everything after ":" is the value otherwise, "==" included'],
    ["'n' + data.x ? 1 : 2", 'the condition before "?" is the whole "… + …"'],
    ['data.a ? 1 : data.b or data.c', '"||" included'],
  ])(
    'when a conditional reads two ways without parentheses (%s), then it is refused with both readings',
    (when, message) => {
      // Arrange
      const fields = ['x', 'a', 'b', 'c'].map((name) => ({ name, label: name, type: 'string' }));

      // Act
      const problems = problemsOf({
        ...definitionWith([decide(`(${when}) == 1`), end]),
        input: { fields },
      });

      // Assert
      expect(problems).toEqual([problem('steps[0].branches[0].when', message)]);
    },
  );

  it.each([
    "(data.x == 'a' ? 1 : 2) == 2",
    "data.x == 'a' ? 1 : (2 == 2 ? 1 : 3)",
    "data.x == 'a' ? 1 : data.x == 'b' ? 2 : 3",
    "('n' + data.x) == 'na' ? 1 : 2",
  ])('when a conditional is parenthesised or chained (%s), then it passes', (when) => {
    // Arrange
    const fields = [{ name: 'x', label: 'x', type: 'string' }];

    // Act
    const problems = problemsOf({
      ...definitionWith([decide(`(${when}) == 1`), end]),
      input: { fields },
    });

    // Assert
    expect(problems).toEqual([]);
  });

  it('when a duration is written in months (P1M), then the message says months are not supported and what to write', () => {
    // Act
    const problems = problemsOf(
      definitionWith([{ id: 'wait', name: 'Wait', type: 'timer', duration: 'P1M' }, end]),
    );

    // Assert
    expect(problems).toEqual([
      problem('steps[0].duration', 'months and years are not supported as durations'),
    ]);
  });

  it('when a template is misspelt, then the nearest known one is suggested and all are listed', () => {
    // Act
    const problems = problemsOf(
      definitionWith([
        {
          id: 'tell',
          name: 'Tell',
          type: 'notify',
          template: 'case-recieved',
          to: { field: 'contactEmail' },
        },
        end,
      ]),
    );

    // Assert
    expect(problems).toEqual([
      problem(
        'steps[0].template',
        'unknown mail template "case-recieved": did you mean "case-received"? (known: case-received)',
      ),
    ]);
  });

  it('when an end step is inside a parallel branch, then the message says where it belongs instead of a bare discriminator error', () => {
    // Arrange
    const wait = (id: string) => ({ id, name: id, type: 'timer', duration: 'PT1H' });

    // Act
    const problems = problemsOf(
      definitionWith([
        {
          id: 'both',
          name: 'Both',
          type: 'parallel',
          branches: [
            { name: 'a', steps: [wait('w1'), { id: 'e1', name: 'End', type: 'end' }] },
            { name: 'b', steps: [wait('w2')] },
          ],
        },
        end,
      ]),
    );

    // Assert
    expect(problems).toEqual([
      problem(
        'steps[0].branches[0].steps[1].type',
        'a parallel branch cannot hold an end step: a branch is done after its last step',
      ),
    ]);
  });

  it('when a case deadline or an evaluation deadline says from, then it is refused; on a task it passes', () => {
    // Arrange
    const onTask = {
      ...review,
      deadlines: [{ id: 'due', name: '办结', within: '5 working days', from: 'case' }],
    };

    // Act
    const task = problemsOf(definitionWith([onTask, end]));
    const kase = problemsOf(
      definitionWith([review, end], {
        deadlines: [{ id: 'case', name: '总时限', within: 'P5D', from: 'case' }],
      }),
    );

    // Assert
    expect(task).toEqual([]);
    expect(kase).toEqual([
      problem('deadlines[0].from', "a case deadline always counts from the case's start"),
    ]);
  });

  it('when a quorum asks for as many branches as there are, or more, or one, then it names the join to write instead', () => {
    // Arrange
    const wait = (id: string) => ({ id, name: id, type: 'timer', duration: 'PT1H' });
    const parallel = (atLeast: number) =>
      definitionWith([
        {
          id: 'both',
          name: 'Both',
          type: 'parallel',
          join: { atLeast },
          branches: [
            { name: 'a', steps: [wait('w1')] },
            { name: 'b', steps: [wait('w2')] },
            { name: 'c', steps: [wait('w3')] },
          ],
        },
        end,
      ]);

    // Act + Assert
    expect(problemsOf(parallel(2))).toEqual([]);
    expect(problemsOf(parallel(3))).toEqual([
      problem('steps[0].join.atLeast', 'all 3 branches: write join: all'),
    ]);
    expect(problemsOf(parallel(4))).toEqual([
      problem('steps[0].join.atLeast', 'at least 4 can never finish'),
    ]);
    expect(problemsOf(parallel(1))).toEqual([
      problem('steps[0].join.atLeast', 'one branch: write join: any'),
    ]);
  });
});

describe('validateDefinition: an evaluation round with a 评单会 group', () => {
  const round = (groups: unknown[], extra: Record<string, unknown> = {}) =>
    definitionWith([
      {
        id: 'round',
        name: 'Round',
        type: 'evaluation',
        orders: { from: '"2026-01-01"', to: '"2026-06-30"' },
        groups,
        within: 'P30D',
        ...extra,
      },
      { id: 'done', name: 'Done', type: 'end' },
    ]);
  const residents = { id: 'residents', name: '居民', weight: 60, scorers: 'served' };

  it("when a meeting group is hosted by the community's secretary, then it is valid", () => {
    // Arrange
    const raw = round([
      residents,
      { id: 'meeting', name: '评单会', weight: 40, meeting: { host: 'secretary' } },
    ]);

    // Act / Assert
    expect(problemsOf(raw)).toEqual([]);
  });

  it('when the host is an unknown role or the unit type unknown, then each is reported with its path', () => {
    // Arrange
    const unknownRole = round([
      residents,
      { id: 'meeting', name: '评单会', weight: 40, meeting: { host: 'chairman' } },
    ]);
    const unknownUnit = round([
      residents,
      {
        id: 'meeting',
        name: '评单会',
        weight: 40,
        meeting: { host: 'secretary', unitsOfType: 'village' },
      },
    ]);

    // Act / Assert
    expect(problemsOf(unknownRole)).toEqual([
      problem('steps[0].groups[1].meeting.host', 'unknown role "chairman"'),
    ]);
    expect(problemsOf(unknownUnit)).toEqual([
      expect.objectContaining({ path: 'steps[0].groups[1].meeting.unitsOfType' }),
    ]);
  });

  it('when a group has both scorers and a meeting, or neither, or the order rating counts in the meeting, then each is refused', () => {
    // Arrange
    const both = round([
      residents,
      {
        id: 'meeting',
        name: '评单会',
        weight: 40,
        scorers: 'requester',
        meeting: { host: 'secretary' },
      },
    ]);
    const neither = round([residents, { id: 'meeting', name: '评单会', weight: 40 }]);
    const rated = round(
      [residents, { id: 'meeting', name: '评单会', weight: 40, meeting: { host: 'secretary' } }],
      { orderRating: { group: 'meeting' } },
    );

    // Act / Assert
    expect(problemsOf(both)).toEqual([problem('steps[0].groups[1]', 'exactly one of scorers')]);
    expect(problemsOf(neither)).toEqual([problem('steps[0].groups[1]', 'exactly one of scorers')]);
    expect(problemsOf(rated)).toEqual([
      problem('steps[0].orderRating.group', "is a meeting's group"),
    ]);
  });
});

describe('validateDefinition: N working days after a date (after)', () => {
  const dated = {
    id: 'plan',
    name: '定会期',
    type: 'task',
    announce: false,
    candidates: [{ role: 'dispatcher', unit: 'case' }],
    form: { fields: [{ name: 'meetingDate', label: '会议日期', type: 'date', required: true }] },
    outcomes: [{ id: 'done', name: '完成' }],
  };
  const finish = { id: 'finish', name: '结束', type: 'end' };
  const followUp = (deadline: Record<string, unknown>) => ({
    id: 'follow',
    name: '会后落实',
    type: 'task',
    announce: false,
    candidates: [{ role: 'dispatcher', unit: 'case' }],
    outcomes: [{ id: 'done', name: '完成' }],
    deadlines: [{ id: 'due', name: '会后3个工作日', ...deadline }],
  });
  const wait = (timer: Record<string, unknown>) => ({
    id: 'wait',
    name: '等待',
    type: 'timer',
    ...timer,
  });

  it('when a deadline is at a form date plus after, and a timer until it plus after, then both pass', () => {
    // Arrange
    const raw = definitionWith([
      dated,
      wait({ until: 'steps.plan.form.meetingDate', after: '3 working days' }),
      followUp({ at: 'steps.plan.form.meetingDate', after: '3 working days' }),
      finish,
    ]);

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([]);
  });

  it('when after stands with within on a deadline, or with duration on a timer, then each is refused at its after with the form to write', () => {
    // Arrange
    const raw = definitionWith([
      dated,
      wait({ duration: 'PT1H', after: '1 working day' }),
      followUp({ within: '3 working days', after: '1 working day' }),
      finish,
    ]);

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([
      problem('steps[1].after', 'after counts from the instant until gives: write it with until'),
      problem(
        'steps[2].deadlines[0].after',
        'after counts from the instant at gives: write it with at',
      ),
    ]);
  });

  it('when after is not a duration, then the accepted forms are named', () => {
    // Arrange
    const raw = definitionWith([
      dated,
      followUp({ at: 'steps.plan.form.meetingDate', after: '3 workdays' }),
      finish,
    ]);

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([
      problem('steps[1].deadlines[0].after', '"3 workdays" is not a duration'),
    ]);
  });
});

describe('validateDefinition: what a case hands its parent (result) and what a parent reads of it', () => {
  const finish = { id: 'finish', name: '结束', type: 'end' };
  const answer = {
    id: 'confirm',
    name: '确认',
    type: 'task',
    announce: false,
    candidates: [{ role: 'dispatcher', unit: 'case' }],
    form: { fields: [{ name: 'members', label: '人数', type: 'integer' }] },
    outcomes: [{ id: 'confirmed', name: '确认' }],
  };

  it('when a result names an outcome and values over the case, then it passes', () => {
    const raw = definitionWith([answer, finish], {
      result: {
        outcome: 'steps.confirm.outcome',
        data: {
          team: "steps.confirm.outcome == 'confirmed'",
          members: 'steps.confirm.form.members',
        },
      },
    });
    expect(problemsOf(raw)).toEqual([]);
  });

  it('when a result has more than 5 values, a name the step already records, or an expression reading an unknown form field, then each is refused with its path', () => {
    // Arrange
    const six = Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((n) => [n, '1']));
    const tooMany = definitionWith([answer, finish], { result: { data: six } });
    const named = definitionWith([answer, finish], {
      result: { data: { status: 'steps.confirm.outcome', crew: 'steps.confirm.form.membres' } },
    });

    // Act
    const many = problemsOf(tooMany);
    const wrong = problemsOf(named);

    // Assert
    expect(many).toEqual([problem('result.data', 'at most 5 result values')]);
    expect(wrong).toEqual([
      problem('result.data.status', '"status" is what a sub-process step already records'),
      problem('result.data.crew', 'has no field "membres"'),
    ]);
  });

  it('when a parent reads its children’s outcomes and totals, then it passes; a misspelt property is named with the right one', () => {
    // Arrange
    const teams = {
      id: 'teams',
      name: '各部门',
      type: 'subprocess',
      definition: 'team-answer',
      forEach: 'data.contactEmail',
    };
    const read = (when: string) =>
      definitionWith([
        teams,
        {
          id: 'staffed',
          name: '有无派员',
          type: 'decision',
          branches: [{ when, next: 'finish' }],
          otherwise: 'finish',
        },
        finish,
      ]);

    // Act
    const good = problemsOf(
      read('steps.teams.totals.team == 0 || steps.teams.outcomes.unable > 1'),
    );
    const bad = problemsOf(read('steps.teams.total.team == 0'));

    // Assert
    expect(good).toEqual([]);
    expect(bad).toEqual([problem('steps[1].branches[0].when', 'did you mean "totals"?')]);
  });
});
