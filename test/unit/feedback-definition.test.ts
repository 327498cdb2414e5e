import type { DefinitionProblem } from '../../lang/check';
import { validateDefinition } from '../../lang/check';

/** A feedback step's raters (`from`, docs 6.8): what the validator accepts and names. */

const options = { knownTemplates: new Set(['task-assigned', 'case-result']) };

function withFeedback(feedback: Record<string, unknown>) {
  return {
    key: 'rated-process',
    name: 'Rated',
    starters: ['resident'],
    input: { fields: [{ name: 'contactEmail', label: 'Email', type: 'email' }] },
    steps: [
      {
        id: 'serve',
        name: 'Serve',
        type: 'task',
        candidates: [{ role: 'grid-worker', unit: 'case' }],
      },
      { id: 'review', name: 'Review', type: 'feedback', within: 'P3D', ...feedback },
      { id: 'done', name: 'Done', type: 'end' },
    ],
  };
}

function problemsOf(raw: unknown): DefinitionProblem[] {
  const result = validateDefinition(raw, options);
  return result.ok ? [] : result.problems;
}

it('when a feedback step names the requester and a role in a unit, then it is valid', () => {
  expect(
    problemsOf(withFeedback({ from: ['requester', { role: 'resident-rep', unit: 'community' }] })),
  ).toEqual([]);
});

it('when a rater names an unknown role, then the rater is named with the nearest role', () => {
  const problems = problemsOf(
    withFeedback({ from: [{ role: 'resident-repp', unit: 'community' }] }),
  );
  expect(problems.map((p) => [p.path, p.message])).toEqual([
    ['steps[1].from[0].role', expect.stringContaining('did you mean "resident-rep"')],
  ]);
});

it("when a rater is the assignee's unit, requester twice or the list is empty, then each is named", () => {
  expect(
    problemsOf(withFeedback({ from: [{ role: 'director', unit: 'assignee' }] })).map((p) => [
      p.path,
      p.message,
    ]),
  ).toEqual([['steps[1].from[0].unit', "the assignee's unit only exists on a task or claim step"]]);
  expect(
    problemsOf(withFeedback({ from: ['requester', 'requester'] })).map((p) => [p.path, p.message]),
  ).toEqual([['steps[1].from[1]', 'requester is listed twice']]);
  expect(problemsOf(withFeedback({ from: [] })).map((p) => p.path)).toEqual(['steps[1].from']);
});

it('when raters are invited (no invite given), then a misspelt template is named', () => {
  const problems = problemsOf(
    withFeedback({ from: [{ role: 'resident-rep', unit: 'community' }], template: 'case-reslt' }),
  );
  expect(problems.map((p) => p.path)).toEqual(['steps[1].template']);
});
