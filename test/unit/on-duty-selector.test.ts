import type { DefinitionProblem } from '../../lang/check';
import { validateDefinition } from '../../lang/check';

/** A 365-day station's request: whoever is on duty in the case's community serves it. */
function stationRequest(candidate: unknown) {
  return {
    key: 'station-request',
    name: '党群服务站诉求',
    starters: ['resident'],
    input: { fields: [{ name: 'station', label: '服务站', type: 'unit' }] },
    steps: [
      { id: 'serve', name: '值班人员办理', type: 'task', candidates: [candidate] },
      { id: 'done', name: '办结', type: 'end' },
    ],
  };
}

function problemsOf(raw: unknown): DefinitionProblem[] {
  const result = validateDefinition(raw, {
    knownTemplates: new Set(['task-assigned', 'case-received']),
  });
  return result.ok ? [] : result.problems;
}

describe('the onDuty selector', () => {
  it('when a task goes to whoever is on duty in the community, falling back to its director, then it is valid', () => {
    expect(problemsOf(stationRequest({ onDuty: 'community', role: 'director' }))).toEqual([]);
    expect(problemsOf(stationRequest({ onDuty: { of: { field: 'station' } } }))).toEqual([]);
  });

  it('when the fallback role is unknown, then it is reported at the role', () => {
    expect(problemsOf(stationRequest({ onDuty: 'community', role: 'night-watch' }))).toEqual([
      {
        path: 'steps[0].candidates[0].role',
        message: expect.stringContaining('unknown role "night-watch"') as string,
      },
    ]);
  });

  it('when the unit reference reads an unknown field, then it is reported at onDuty', () => {
    expect(problemsOf(stationRequest({ onDuty: { of: { field: 'place' } } }))).toEqual([
      {
        path: 'steps[0].candidates[0].onDuty.of.field',
        message: expect.stringContaining('unknown field "place"') as string,
      },
    ]);
  });

  it('when onDuty names the assignee outside a task, then it is refused there', () => {
    const raw = {
      ...stationRequest({ onDuty: 'community' }),
      steps: [
        {
          id: 'tell',
          name: '通知值班',
          type: 'notify',
          template: 'case-received',
          to: { onDuty: 'assignee' },
        },
        { id: 'done', name: '办结', type: 'end' },
      ],
    };

    const problems = validateDefinition(raw, { knownTemplates: new Set(['case-received']) });

    expect(problems.ok).toBe(false);
    expect(JSON.stringify(problems)).toContain(
      "the assignee's unit only exists on a task or claim step",
    );
  });
});
