import type { DefinitionProblem } from '../../lang/check';
import { validateDefinition } from '../../lang/check';
import type { DeadlineSpec } from '../../lang/definition';
import { levelledDeadline } from '../../lang/ladder';
import { OrgTree } from '../../common/org-tree';
import { selectPeople } from '../../common/people-selector';

/** `upTree` escalation ladders (逐级督办 up the org tree): what the validator accepts and names, and the levels they expand to. */

const options = { knownTemplates: new Set(['task-assigned', 'task-escalated']) };

function withEscalations(escalations: unknown[], caseDeadline = false) {
  const deadline = { id: 'finish', name: 'Finish', within: 'P1D', escalations };
  return {
    key: 'laddered-process',
    name: 'Laddered',
    starters: ['resident'],
    input: { fields: [{ name: 'note', label: 'Note', type: 'text' }] },
    ...(caseDeadline ? { deadlines: [deadline] } : {}),
    steps: [
      {
        id: 'serve',
        name: 'Serve',
        type: 'task',
        candidates: [{ role: 'grid-worker', unit: 'case' }],
        ...(caseDeadline ? {} : { deadlines: [deadline] }),
      },
      { id: 'done', name: 'Done', type: 'end' },
    ],
  };
}

function problemsOf(raw: unknown): DefinitionProblem[] {
  const result = validateDefinition(raw, options);
  return result.ok ? [] : result.problems;
}

function deadlineOf(raw: unknown): DeadlineSpec {
  const result = validateDefinition(raw, options);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const step = result.spec.steps[0]!;
  if (step.type !== 'task') throw new Error('not a task');
  return step.deadlines[0]!;
}

const AT = 'steps[0].deadlines[0].escalations[0].upTree';

it('when a task deadline has a ladder of three levels a working day apart, then it expands to three levels up from the assignee, each one more working day after', () => {
  const deadline = deadlineOf(
    withEscalations([
      { upTree: { role: 'leader', from: { of: 'assignee' }, levels: 3, every: '1 working day' } },
    ]),
  );
  expect(levelledDeadline(deadline).escalations).toEqual([
    {
      notify: { role: 'leader', unit: { of: 'assignee', at: { up: 1 } } },
      template: 'task-escalated',
      reassign: false,
      ladder: { rank: 1, levels: 3, entry: 0 },
    },
    {
      after: '1 working day',
      notify: { role: 'leader', unit: { of: 'assignee', at: { up: 2 } } },
      template: 'task-escalated',
      reassign: false,
      ladder: { rank: 2, levels: 3, entry: 0 },
    },
    {
      after: '2 working days',
      notify: { role: 'leader', unit: { of: 'assignee', at: { up: 3 } } },
      template: 'task-escalated',
      reassign: false,
      ladder: { rank: 3, levels: 3, entry: 0 },
    },
  ]);
});

it('when a ladder follows an ordinary level and starts after it, then the levels are numbered after it and its offsets start at after', () => {
  const deadline = deadlineOf(
    withEscalations([
      { notify: { role: 'grid-leader', unit: 'grid' } },
      {
        upTree: {
          role: 'secretary',
          levels: 2,
          types: ['community', 'street'],
          after: 'PT2H',
          every: 'PT4H',
        },
      },
    ]),
  );
  const levels = levelledDeadline(deadline).escalations;
  expect(levels.map((l) => [l.after, l.notify, l.ladder?.rank])).toEqual([
    [undefined, { role: 'grid-leader', unit: 'grid' }, undefined],
    [
      'PT7200.000S',
      { role: 'secretary', unit: { of: 'case', at: { up: 1, types: ['community', 'street'] } } },
      1,
    ],
    [
      'PT21600.000S',
      { role: 'secretary', unit: { of: 'case', at: { up: 2, types: ['community', 'street'] } } },
      2,
    ],
  ]);
});

it('when a deadline has no ladder, then the clock runs the very same spec (running cases plan as before)', () => {
  const deadline = deadlineOf(withEscalations([{ notify: 'assignee' }]));
  expect(levelledDeadline(deadline)).toBe(deadline);
});

it('when a ladder names an unknown role, then its role is named with the nearest known one', () => {
  const problems = problemsOf(
    withEscalations([{ upTree: { role: 'secretery', levels: 2, every: 'P1D' } }]),
  );
  expect(problems.map((p) => [p.path, p.message])).toEqual([
    [`${AT}.role`, expect.stringContaining('did you mean "secretary"')],
  ]);
});

it('when a ladder has no levels, too many or a bad interval, then the field is named', () => {
  expect(
    problemsOf(withEscalations([{ upTree: { role: 'leader', levels: 0, every: 'P1D' } }])).map(
      (p) => [p.path, p.message],
    ),
  ).toEqual([[`${AT}.levels`, 'levels must be a whole number from 1 to 8']]);
  expect(
    problemsOf(withEscalations([{ upTree: { role: 'leader', levels: 9, every: 'P1D' } }])).map(
      (p) => p.path,
    ),
  ).toEqual([`${AT}.levels`]);
  expect(
    problemsOf(withEscalations([{ upTree: { role: 'leader', levels: 2, every: 'P1M' } }])).map(
      (p) => [p.path, p.message],
    ),
  ).toEqual([[`${AT}.every`, expect.stringContaining('months and years are not supported')]]);
});

it('when a ladder mixes working and calendar time in after and every, then after is named', () => {
  const problems = problemsOf(
    withEscalations([
      { upTree: { role: 'leader', levels: 2, after: 'PT1H', every: '1 working day' } },
    ]),
  );
  expect(problems.map((p) => [p.path, p.message])).toEqual([
    [`${AT}.after`, expect.stringContaining('must be the same kind of time')],
  ]);
});

it("when a case deadline's ladder starts from the assignee, then from is named", () => {
  const problems = problemsOf(
    withEscalations(
      [{ upTree: { role: 'leader', from: 'assignee', levels: 2, every: 'P1D' } }],
      true,
    ),
  );
  expect(problems.map((p) => [p.path, p.message])).toEqual([
    [
      'deadlines[0].escalations[0].upTree.from',
      "the assignee's unit only exists on a task or claim step",
    ],
  ]);
});

it('when a level after a ladder fires before its last level, then the level is out of order', () => {
  const problems = problemsOf(
    withEscalations([
      { upTree: { role: 'leader', levels: 3, every: 'P1D' } },
      { after: 'P1D', notify: { role: 'secretary', unit: 'street' } },
    ]),
  );
  expect(problems.map((p) => [p.path, p.message])).toEqual([
    ['steps[0].deadlines[0].escalations[1].after', 'levels must be in order of their offsets'],
  ]);
});

it('when a ladder carries a key a level has (reassign), then the unknown key is named', () => {
  const problems = problemsOf(
    withEscalations([{ upTree: { role: 'leader', levels: 2, every: 'P1D', reassign: true } }]),
  );
  expect(problems.map((p) => p.path)).toEqual([AT]);
});

describe('the k-th unit above (at: { up })', () => {
  const tree = new OrgTree(
    [
      { id: 'county', name: '县', type: 'county', parentId: null },
      { id: 'street', name: '街道', type: 'street', parentId: 'county' },
      { id: 'community', name: '社区', type: 'community', parentId: 'street' },
      { id: 'grid', name: '网格', type: 'grid', parentId: 'community' },
      { id: 'compound', name: '小区', type: 'compound', parentId: 'grid' },
    ],
    [
      { personId: 'p-grid', unitId: 'grid', role: 'leader' },
      { personId: 'p-community', unitId: 'community', role: 'leader' },
      { personId: 'p-county', unitId: 'county', role: 'leader' },
    ],
  );
  const context = { caseUnitId: 'compound', assigneeUnitId: null, data: {} };
  const at = (up: number, types?: Array<'community' | 'street' | 'county'>) =>
    selectPeople(
      tree,
      { role: 'leader', unit: { of: 'case', at: { up, ...(types ? { types } : {}) } } },
      context,
    );

  it('when walking up from a compound, then each rank is the next unit above, a vacant one falling back upwards, and past the root nobody', () => {
    expect(at(1).people.map((p) => p.personId)).toEqual(['p-grid']);
    expect(at(2).people.map((p) => p.personId)).toEqual(['p-community']);
    const street = at(3);
    expect([street.fellBack, street.people.map((p) => p.personId)]).toEqual([true, ['p-county']]);
    expect(at(4).people.map((p) => p.personId)).toEqual(['p-county']);
    expect(at(5)).toMatchObject({ people: [], unit: null });
  });

  it('when only some types count, then the ranks skip the others', () => {
    expect(at(1, ['community', 'county']).people.map((p) => p.personId)).toEqual(['p-community']);
    expect(at(2, ['community', 'county']).people.map((p) => p.personId)).toEqual(['p-county']);
    expect(at(3, ['community', 'county'])).toMatchObject({ people: [], unit: null });
  });
});
