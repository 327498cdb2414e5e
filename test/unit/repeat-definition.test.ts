import type { DefinitionProblem } from '../../lang/check';
import { validateDefinition } from '../../lang/check';
import { evaluateValue } from '../../lang/expression';
import { MAX_REPEAT_ITERATIONS } from '../../lang/steps';

/** The `repeat` step (重复执行, docs 6.15): what the validator accepts and names. */

const options = { knownTemplates: new Set(['task-assigned', 'case-update']) };

const VISIT = {
  id: 'visit',
  name: '入户回访',
  type: 'task',
  candidates: [{ role: 'grid-worker', unit: 'case' }],
  form: { fields: [{ name: 'note', label: '回访情况', type: 'text' }] },
};

function withRepeat(repeat: Record<string, unknown>, after: unknown[] = []) {
  return {
    key: 'repeated-process',
    name: 'Repeated',
    starters: ['resident'],
    input: { fields: [{ name: 'visitDates', label: '回访日期', type: 'date', multiple: true }] },
    steps: [
      { id: 'checkins', name: '每月回访', type: 'repeat', steps: [VISIT], ...repeat },
      ...after,
      { id: 'done', name: 'Done', type: 'end' },
    ],
  };
}

function problemsOf(raw: unknown): DefinitionProblem[] {
  const result = validateDefinition(raw, options);
  return result.ok ? [] : result.problems;
}

it('when a block repeats six times thirty days apart, or once per date of a field, then it is valid and later steps read its iterations', () => {
  const after = [
    {
      id: 'check',
      name: '是否都已回访',
      type: 'decision',
      branches: [
        {
          when: "steps.checkins.count == 6 && steps.checkins.iterations['6'].steps.visit.outcome == 'done'",
          next: 'done',
        },
      ],
      otherwise: 'done',
    },
  ];
  expect(problemsOf(withRepeat({ times: 6, every: 'P30D' }, after))).toEqual([]);
  expect(problemsOf(withRepeat({ dates: 'data.visitDates' }))).toEqual([]);
});

it('when a repeat has neither or both of times and dates, or every with dates, then the step or every is named', () => {
  expect(problemsOf(withRepeat({})).map((p) => [p.path, p.message])).toEqual([
    ['steps[0]', expect.stringContaining('exactly one of times') as string],
  ]);
  expect(problemsOf(withRepeat({ times: 2, dates: 'data.visitDates' })).map((p) => p.path)).toEqual(
    ['steps[0]'],
  );
  expect(
    problemsOf(withRepeat({ dates: 'data.visitDates', every: 'P30D' })).map((p) => p.path),
  ).toEqual(['steps[0].every']);
});

it('when times is past 24, then times is named with the bound and why', () => {
  expect(problemsOf(withRepeat({ times: 25 })).map((p) => [p.path, p.message])).toEqual([
    ['steps[0].times', expect.stringContaining('from 1 to 24') as string],
  ]);
});

it('when dates reads an unknown field or a step property the repeat lacks, then the expression is named', () => {
  expect(problemsOf(withRepeat({ dates: 'data.dates' })).map((p) => p.path)).toEqual([
    'steps[0].dates',
  ]);
  const after = [
    {
      id: 'check',
      name: 'x',
      type: 'decision',
      branches: [{ when: 'steps.checkins.visits > 1', next: 'done' }],
      otherwise: 'done',
    },
  ];
  expect(problemsOf(withRepeat({ times: 2 }, after)).map((p) => [p.path, p.message])).toEqual([
    [
      'steps[1].branches[0].when',
      expect.stringContaining('(it has: index, item, count, iterations)') as string,
    ],
  ]);
});

it('when the block holds an end, a parallel or another repeat, then the step is named with where it belongs', () => {
  const problems = problemsOf(
    withRepeat({ times: 2, steps: [VISIT, { id: 'stop', name: '结束', type: 'end' }] }),
  );
  expect(problems.map((p) => [p.path, p.message])).toEqual([
    [
      'steps[0].steps[1].type',
      expect.stringContaining('a repeated block cannot hold an end step') as string,
    ],
  ]);
});

it('when a step in the block jumps out of it, then the jump is named', () => {
  const problems = problemsOf(withRepeat({ times: 2, steps: [{ ...VISIT, next: 'done' }] }));
  expect(problems.map((p) => [p.path, p.message])).toEqual([
    ['steps[0].steps[0].next', 'step "done" is in another list; jumps stay inside their own list'],
  ]);
});

it('when a repeat sits in a parallel branch, then it is named', () => {
  const raw = {
    ...withRepeat({ times: 2 }),
    steps: [
      {
        id: 'both',
        name: '并行',
        type: 'parallel',
        branches: [
          {
            name: 'a',
            steps: [{ id: 'again', name: 'x', type: 'repeat', times: 2, steps: [VISIT] }],
          },
          { name: 'b', steps: [{ id: 'wait', name: 'w', type: 'timer', duration: 'P1D' }] },
        ],
      },
      { id: 'done', name: 'Done', type: 'end' },
    ],
  };
  expect(problemsOf(raw).map((p) => [p.path, p.message])).toEqual([
    [
      'steps[0].branches[0].steps[0].type',
      expect.stringContaining('a repeat step cannot run inside a parallel branch') as string,
    ],
  ]);
});

it('when an expression names an iteration by its number, then it reads that iteration’s step results', () => {
  const steps = {
    checkins: {
      count: 2,
      iterations: {
        '1': { index: 1, item: null, steps: { visit: { outcome: 'done' } } },
        '2': { index: 2, item: null, steps: { visit: { outcome: 'absent' } } },
      },
    },
  };
  expect(evaluateValue("steps.checkins.iterations['2'].steps.visit.outcome", { steps })).toBe(
    'absent',
  );
});

it('when times is 24, the bound the interpreter applies to dates, then it is valid', () => {
  expect(problemsOf(withRepeat({ times: MAX_REPEAT_ITERATIONS }))).toEqual([]);
  expect(problemsOf(withRepeat({ times: MAX_REPEAT_ITERATIONS + 1 })).map((p) => p.path)).toEqual([
    'steps[0].times',
  ]);
});
