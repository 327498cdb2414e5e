import type { DefinitionProblem } from '../../lang/check';
import { validateDefinition } from '../../lang/check';
import { BUILTIN_POST_ROLES } from '../../lang/vocabulary';

/** The `grant` step (登记到组织架构, docs 6.17): what the validator names. */

const options = { knownTemplates: new Set(['task-assigned', 'case-update']) };

function withGrant(grant: Record<string, unknown>, roles: unknown[] = []) {
  return {
    key: 'granted',
    name: 'Granted',
    starters: ['admin'],
    roles,
    input: {
      fields: [
        { name: 'applicantName', label: '姓名', type: 'string', personal: true },
        { name: 'phone', label: '电话', type: 'phone', personal: true },
      ],
    },
    steps: [
      {
        id: 'review',
        name: '审核',
        type: 'task',
        candidates: [{ role: 'dispatcher', unit: 'case' }],
        form: { fields: [{ name: 'volunteer', label: '人员', type: 'person' }] },
      },
      { id: 'enrol', name: '登记', type: 'grant', ...grant },
      {
        id: 'tell',
        name: '告知',
        type: 'notify',
        template: 'case-update',
        to: [{ expression: 'steps.enrol.personId' }],
      },
      { id: 'done', name: 'Done', type: 'end' },
    ],
  };
}

function problemsOf(raw: unknown): Array<[string, string]> {
  const result = validateDefinition(raw, options);
  return result.ok ? [] : result.problems.map((p: DefinitionProblem) => [p.path, p.message]);
}

const NEW_PERSON = { name: 'data.applicantName', phone: 'data.phone' };

it('when a grant gives the volunteer post in the case’s unit to the person named or a new one, then it is valid', () => {
  expect(
    problemsOf(
      withGrant({
        post: 'volunteer',
        unit: 'case',
        person: 'steps.review.form.volunteer',
        newPerson: NEW_PERSON,
      }),
    ),
  ).toEqual([]);
});

it('when the post is not one of the org model’s posts, then it is named with the valid ones', () => {
  const valid = Object.keys(BUILTIN_POST_ROLES).sort().join(', ');
  expect(problemsOf(withGrant({ post: 'volunter', newPerson: NEW_PERSON }))).toEqual([
    [
      'steps[1].post',
      `"volunter" is not a post of the org model: use one of ${valid} (or declare it under roles)`,
    ],
  ]);
});

it('when the post is declared under roles, then it is valid', () => {
  expect(
    problemsOf(
      withGrant({ post: 'elder-helper', newPerson: NEW_PERSON }, [
        { key: 'elder-helper', label: '助老员' },
      ]),
    ),
  ).toEqual([]);
});

it('when neither person nor newPerson is given, then the step says it needs one', () => {
  expect(problemsOf(withGrant({ post: 'volunteer' }))).toEqual([
    [
      'steps[1]',
      'a grant needs person (an expression giving a person id) or newPerson (name, phone, email from the case), or both',
    ],
  ]);
});

it('when the unit is the assignee’s or newPerson reads an unknown name, then each is named with its path', () => {
  const problems = problemsOf(
    withGrant({ post: 'volunteer', unit: 'assignee', newPerson: { name: 'data.fullName' } }),
  );
  expect(problems.map(([path]) => path)).toEqual(['steps[1].unit', 'steps[1].newPerson.name']);
});

it('when a later step reads a property a grant does not leave, then the valid ones are listed', () => {
  const raw: { steps: Array<Record<string, unknown>> } = withGrant({
    post: 'volunteer',
    newPerson: NEW_PERSON,
  });
  raw.steps[2] = { ...raw.steps[2], to: [{ expression: 'steps.enrol.person' }] };
  const problems = problemsOf(raw);
  expect(problems).toHaveLength(1);
  expect(problems[0]![0]).toBe('steps[2].to[0].expression');
  expect(problems[0]![1]).toContain('personId');
});

it('when a grant sits in a parallel branch, then its path is named with where it belongs instead of a bare discriminator error', () => {
  const raw: { steps: Array<Record<string, unknown>> } = withGrant({
    post: 'volunteer',
    newPerson: NEW_PERSON,
  });
  const [review, enrol, tell, done] = raw.steps;
  raw.steps = [
    review!,
    {
      id: 'both',
      name: '同时办理',
      type: 'parallel',
      branches: [
        { name: 'a', steps: [enrol!] },
        { name: 'b', steps: [{ id: 'wait', name: '等待', type: 'timer', duration: 'P1D' }] },
      ],
    },
    tell!,
    done!,
  ];
  expect(problemsOf(raw)).toEqual([
    [
      'steps[1].branches[0].steps[0].type',
      'a grant cannot run inside a parallel branch: make it a step of its own before or after the parallel step (the org data is written at the top level of the case only)',
    ],
  ]);
});

it('when a grant sits in a repeated block, then its path is named with where it belongs instead of a bare discriminator error', () => {
  const raw: { steps: Array<Record<string, unknown>> } = withGrant({
    post: 'volunteer',
    newPerson: NEW_PERSON,
  });
  const [review, enrol, tell, done] = raw.steps;
  raw.steps = [
    review!,
    { id: 'monthly', name: '每月登记', type: 'repeat', times: 3, steps: [enrol!] },
    tell!,
    done!,
  ];
  expect(problemsOf(raw)).toEqual([
    [
      'steps[1].steps[0].type',
      'a grant cannot run inside a repeated block: make it a step of its own before or after the repeat step (a post is granted once; granting it again changes nothing)',
    ],
  ]);
});

it('when a grant links the requester’s account, then `account: requester` is valid and any other value is named with the one it takes', () => {
  const linked = problemsOf(
    withGrant({ post: 'volunteer', newPerson: NEW_PERSON, account: 'requester' }),
  );
  const misspelt = problemsOf(
    withGrant({ post: 'volunteer', newPerson: NEW_PERSON, account: 'applicant' }),
  );
  expect(linked).toEqual([]);
  expect(misspelt).toEqual([
    [
      'steps[1].account',
      'account links the person to the requester’s sign-in account: account: requester',
    ],
  ]);
});
