import type { DefinitionProblem } from '../../lang/check';
import { validateDefinition } from '../../lang/check';

const FALLBACK = { role: 'dispatcher', unit: 'community' };

/** A 补正 request: the requester supplies what is missing, then the community decides. */
function supplementRequest(candidates: unknown[], extraSteps: unknown[] = []) {
  return {
    key: 'supplement-request',
    name: '申请补正',
    starters: ['resident'],
    input: { fields: [{ name: 'details', label: '申请内容', type: 'text' }] },
    steps: [
      ...extraSteps,
      { id: 'supplement', name: '申请人补正材料', type: 'task', candidates },
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

describe('the requester selector', () => {
  it('when a task goes to the requester with the community dispatcher as otherwise, then it is valid', () => {
    expect(problemsOf(supplementRequest([{ requester: true, otherwise: FALLBACK }]))).toEqual([]);
    // `unit` defaults to the case's unit, as in any role selector.
    expect(
      problemsOf(supplementRequest([{ requester: true, otherwise: { role: 'dispatcher' } }])),
    ).toEqual([]);
  });

  it('when otherwise is missing, then the problem says who it is for', () => {
    const problems = problemsOf(supplementRequest([{ requester: true }]));
    expect(problems).toContainEqual({
      path: 'steps[0].candidates[0].otherwise',
      message: expect.stringContaining(
        'who does the task when the requester has no account',
      ) as string,
    });
  });

  it('when requester is false, then the problem shows how it is written', () => {
    const problems = problemsOf(supplementRequest([{ requester: false, otherwise: FALLBACK }]));
    expect(problems).toContainEqual({
      path: 'steps[0].candidates[0].requester',
      message: 'the requester selector is written requester: true',
    });
  });

  it('when the otherwise role is unknown, then it is reported at the role', () => {
    const problems = problemsOf(
      supplementRequest([{ requester: true, otherwise: { role: 'dispacher' } }]),
    );
    expect(problems).toEqual([
      {
        path: 'steps[0].candidates[0].otherwise.role',
        message: expect.stringContaining(
          'unknown role "dispacher": did you mean "dispatcher"?',
        ) as string,
      },
    ]);
  });

  it('when the requester stands beside other candidates, then it is refused with where staff go instead', () => {
    const problems = problemsOf(
      supplementRequest([{ requester: true, otherwise: FALLBACK }, { role: 'grid-worker' }]),
    );
    expect(problems).toEqual([
      {
        path: 'steps[0].candidates[0].requester',
        message: expect.stringContaining("the requester is a task's only candidate") as string,
      },
    ]);
  });

  it('when a claim pool or a mail names the requester, then each is refused at its path', () => {
    const raw = supplementRequest(
      [{ requester: true, otherwise: FALLBACK }],
      [
        {
          id: 'pool',
          name: '认领',
          type: 'claim',
          candidates: [{ requester: true, otherwise: FALLBACK }],
        },
        {
          id: 'tell',
          name: '通知',
          type: 'notify',
          template: 'case-received',
          to: { requester: true, otherwise: FALLBACK },
        },
      ],
    );
    const problems = problemsOf(raw);
    expect(problems.map((p) => p.path)).toEqual([
      'steps[0].candidates[0].requester',
      'steps[1].to.requester',
    ]);
    for (const problem of problems) {
      expect(problem.message).toContain("the requester is only a task step's candidate");
    }
  });
});
