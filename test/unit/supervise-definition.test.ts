import type { DefinitionProblem } from '../../lang/check';
import { validateDefinition } from '../../lang/check';

/** The `supervise` block of an escalation level (督办单): what the validator accepts and names. */

const options = { knownTemplates: new Set(['task-assigned', 'task-escalated']) };

function withLevel(level: Record<string, unknown>, extraSteps: unknown[] = []) {
  return {
    key: 'supervised-process',
    name: 'Supervised',
    starters: ['resident'],
    input: { fields: [{ name: 'contactEmail', label: 'Email', type: 'email' }] },
    steps: [
      {
        id: 'serve',
        name: 'Serve',
        type: 'task',
        candidates: [{ role: 'grid-worker', unit: 'case' }],
        deadlines: [{ id: 'finish', name: 'Finish', within: 'P1D', escalations: [level] }],
      },
      ...extraSteps,
      { id: 'done', name: 'Done', type: 'end' },
    ],
  };
}

function problemsOf(raw: unknown): DefinitionProblem[] {
  const result = validateDefinition(raw, options);
  return result.ok ? [] : result.problems;
}

const AT = 'steps[0].deadlines[0].escalations[0]';

it('when a level supervises with a level, a reply time and people, then the definition is valid with the slip in its spec', () => {
  const result = validateDefinition(
    withLevel({
      notify: { role: 'secretary', unit: 'street' },
      supervise: { within: '2 working days', level: 'red', name: '红色督办单' },
    }),
    options,
  );
  expect(result).toMatchObject({
    ok: true,
    spec: {
      steps: [
        {
          deadlines: [
            {
              escalations: [
                { supervise: { within: '2 working days', level: 'red', name: '红色督办单' } },
              ],
            },
          ],
        },
        {},
      ],
    },
  });
});

it('when a slip names a colour other than yellow or red, then its level is named', () => {
  const problems = problemsOf(
    withLevel({
      notify: { role: 'secretary', unit: 'street' },
      supervise: { within: 'P1D', level: 'orange' },
    }),
  );
  expect(problems.map((p) => p.path)).toEqual([`${AT}.supervise.level`]);
});

it('when a slip has no reply time or a bad one, then within is named', () => {
  expect(
    problemsOf(withLevel({ notify: 'assignee', supervise: { level: 'yellow' } })).map(
      (p) => p.path,
    ),
  ).toEqual([`${AT}.supervise.within`]);
  const bad = problemsOf(
    withLevel({ notify: 'assignee', supervise: { level: 'yellow', within: 'soon' } }),
  );
  expect(bad).toEqual([
    {
      path: `${AT}.supervise.within`,
      message: expect.stringContaining('not a duration') as string,
    },
  ]);
});

it('when a slip has an unknown key, then the key is named', () => {
  const problems = problemsOf(
    withLevel({ notify: 'assignee', supervise: { level: 'red', within: 'P1D', colour: 'red' } }),
  );
  expect(problems).toHaveLength(1);
  expect(problems[0]!.path).toContain(`${AT}.supervise`);
});

it('when a level that mails only addresses supervises without naming people, then supervise.to is required', () => {
  const problems = problemsOf(
    withLevel({
      notify: [{ field: 'contactEmail' }, { address: 'office@example.test' }],
      supervise: { level: 'red', within: 'P1D' },
    }),
  );
  expect(problems).toEqual([
    { path: `${AT}.supervise.to`, message: expect.stringContaining('required') as string },
  ]);
});

it('when a slip names people by an unknown role, then the role is named', () => {
  const problems = problemsOf(
    withLevel({
      notify: { address: 'office@example.test' },
      supervise: { level: 'red', within: 'P1D', to: { role: 'no-such-role', unit: 'street' } },
    }),
  );
  expect(problems).toEqual([
    { path: `${AT}.supervise.to.role`, message: expect.stringContaining('unknown role') as string },
  ]);
});

it('when a definition that supervises has a step called supervision, then the reserved id is named', () => {
  const problems = problemsOf(
    withLevel({ notify: 'assignee', supervise: { level: 'yellow', within: 'P1D' } }, [
      {
        id: 'supervision',
        name: 'Mine',
        type: 'task',
        candidates: [{ role: 'grid-worker', unit: 'case' }],
      },
    ]),
  );
  expect(problems).toContainEqual({
    path: `${AT}.supervise`,
    message: expect.stringContaining('reserved') as string,
  });
});

it('when a roll-call level supervises, then the slip is refused there', () => {
  const raw = withLevel({ notify: 'assignee' });
  raw.steps[0] = {
    id: 'report',
    name: 'Report in',
    type: 'claim',
    candidates: [{ role: 'grid-worker', unit: 'case' }],
    claimants: { min: 1, max: 'all' },
    deadlines: [
      {
        id: 'finish',
        name: 'Finish',
        within: 'P1D',
        escalations: [
          {
            notify: { role: 'secretary', unit: 'street' },
            supervise: { level: 'red', within: 'P1D' },
          },
        ],
      },
    ],
  };
  expect(problemsOf(raw)).toContainEqual({
    path: `${AT}.supervise`,
    message: expect.stringContaining('roll-call') as string,
  });
});
