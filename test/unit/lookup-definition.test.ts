import type { DefinitionProblem } from '../../lang/check';
import { validateDefinition } from '../../lang/check';
import { formPrefill } from '../../lang/case-data';
import type { FieldSpec } from '../../lang/definition';
import { summaryOf } from '../../activities/dual-report-members';
import { daysOverdue, openItemsSummary } from '../../activities/open-items';

/** The `lookup` step (读取登记数据, docs 6.16) and prefilled task forms: what the validator names. */

const options = { knownTemplates: new Set(['task-assigned', 'case-update']) };

const ASSESS = {
  id: 'assess',
  name: '社区评议',
  type: 'task',
  candidates: [{ role: 'secretary', unit: 'case' }],
  form: {
    fields: [
      {
        name: 'members',
        label: '党员',
        type: 'person',
        multiple: true,
        maxItems: 500,
        default: 'steps.basis.people',
      },
      { name: 'basis', label: '依据', type: 'text', default: 'steps.basis.summary' },
    ],
  },
};

function withLookup(lookup: Record<string, unknown>, task: Record<string, unknown> = ASSESS) {
  return {
    key: 'looked-up',
    name: 'Looked up',
    starters: ['admin'],
    input: { fields: [{ name: 'year', label: '年度', type: 'integer' }] },
    steps: [
      { id: 'basis', name: '读取', type: 'lookup', ...lookup },
      task,
      { id: 'done', name: 'Done', type: 'end' },
    ],
  };
}

function problemsOf(raw: unknown): Array<[string, string]> {
  const result = validateDefinition(raw, options);
  return result.ok ? [] : result.problems.map((p: DefinitionProblem) => [p.path, p.message]);
}

it('when a lookup reads dual-report-members for data.year and a form defaults to what it read, then it is valid', () => {
  expect(problemsOf(withLookup({ source: 'dual-report-members', period: 'data.year' }))).toEqual(
    [],
  );
});

it('when the source is unknown, then the source is named with the valid ones', () => {
  expect(problemsOf(withLookup({ source: 'party-members', period: 'data.year' }))).toEqual([
    [
      'steps[0].source',
      '"party-members" is not a lookup source: use one of dual-report-members, open-items, secretary-record',
    ],
  ]);
});

it('when the period is missing, reads an unknown field, or an unknown parameter is given, then each is named with its path', () => {
  expect(problemsOf(withLookup({ source: 'dual-report-members' }))).toEqual([
    [
      'steps[0].period',
      'source dual-report-members needs period: an expression giving the year read (data.year)',
    ],
  ]);
  expect(problemsOf(withLookup({ source: 'dual-report-members', period: 'data.yaer' }))).toEqual([
    ['steps[0].period', 'bad expression: unknown field "data.yaer"'],
  ]);
  const unknown = problemsOf(
    withLookup({ source: 'dual-report-members', period: 'data.year', units: 'case' }),
  );
  expect(unknown.map(([path]) => path)).toEqual(['steps[0]']);
  expect(unknown[0]![1]).toContain('units');
  // `unit` is secretary-record's parameter only
  expect(
    problemsOf(withLookup({ source: 'dual-report-members', period: 'data.year', unit: 'data.u' })),
  ).toEqual([['steps[0].unit', 'source dual-report-members takes no unit']]);
});

it('when max is past 500, then max is named with the bound and why', () => {
  expect(
    problemsOf(withLookup({ source: 'dual-report-members', period: 'data.year', max: 501 })),
  ).toEqual([
    [
      'steps[0].max',
      "max must be at most 500 (chosen: what a lookup reads rides in the case's history); split the case by unit for more",
    ],
  ]);
});

it('when a form default reads a property a lookup does not leave, then the default is named with the ones it has', () => {
  const task = {
    ...ASSESS,
    form: {
      fields: [{ name: 'members', label: '党员', type: 'person', default: 'steps.basis.peopel' }],
    },
  };
  const problems = problemsOf(
    withLookup({ source: 'dual-report-members', period: 'data.year' }, task),
  );
  expect(problems.map(([path]) => path)).toEqual(['steps[1].form.fields[0].default']);
  expect(problems[0]![1]).toContain('has no "peopel": did you mean "people"?');
});

it('when a photo field has a default, then the default is named', () => {
  const task = {
    ...ASSESS,
    form: {
      fields: [{ name: 'photo', label: '照片', type: 'photo', default: 'steps.basis.summary' }],
    },
  };
  expect(
    problemsOf(withLookup({ source: 'dual-report-members', period: 'data.year' }, task)),
  ).toEqual([
    [
      'steps[1].form.fields[0].default',
      'a photo field takes no default: the person attaches the photo',
    ],
  ]);
});

it('when a lookup sits in a parallel branch, then the step is named and told where it belongs', () => {
  const raw = {
    key: 'looked-up',
    name: 'Looked up',
    starters: ['admin'],
    input: { fields: [{ name: 'year', label: '年度', type: 'integer' }] },
    steps: [
      {
        id: 'both',
        name: 'Both',
        type: 'parallel',
        branches: [
          {
            name: 'a',
            steps: [{ id: 'basis', name: '读取', type: 'lookup', source: 'dual-report-members' }],
          },
          { name: 'b', steps: [{ ...ASSESS, form: undefined }] },
        ],
      },
      { id: 'done', name: 'Done', type: 'end' },
    ],
  };
  const problems = problemsOf(raw);
  expect(problems[0]![0]).toBe('steps[0].branches[0].steps[0].type');
  expect(problems[0]![1]).toContain('a lookup cannot run inside a parallel branch');
});

it('when a form is prefilled, then the values its fields accept are kept and the others left out', () => {
  const fields = [
    { name: 'members', label: 'm', type: 'person', multiple: true, maxItems: 2 },
    { name: 'units', label: 'u', type: 'unit', multiple: true, maxItems: 1 },
    { name: 'basis', label: 'b', type: 'text' },
    { name: 'missing', label: 'x', type: 'string' },
  ].map((f) => ({
    required: false,
    multiple: false,
    personal: false,
    ...f,
    default: `steps.basis.${f.name}`,
  })) as FieldSpec[];
  const scope = {
    steps: {
      basis: { members: ['p-1', 'p-2'], units: ['u-1', 'u-2'], basis: '  张三：10 分  ' },
    },
  };
  expect(formPrefill(fields, scope)).toEqual({ members: ['p-1', 'p-2'], basis: '张三：10 分' });
  expect(formPrefill(fields, { steps: {} })).toBeNull();
});

it('when the summary would pass 5,000 characters, then it stops with the number of members left out', () => {
  const members = Array.from({ length: 400 }, (_, i) => ({
    person: `p-${String(i).padStart(3, '0')}`,
    homeUnits: ['u-hospital'],
    points: 400 - i,
    services: 1,
    registered: true,
  }));
  const summary = summaryOf(members, new Map(), new Map([['u-hospital', '县人民医院']]));
  const lines = summary.split('\n');
  expect(summary.length).toBeLessThanOrEqual(5000);
  expect(lines[0]).toBe('p-000（县人民医院）：400 分，1 次');
  expect(lines.at(-1)).toBe(`……另有 ${400 - (lines.length - 1)} 人`);
});

const PREPARE = {
  id: 'prepare',
  name: '会前准备',
  type: 'task',
  candidates: [{ role: 'secretary', unit: 'case' }],
  form: {
    fields: [
      { name: 'unclaimed', label: '无人认领', type: 'integer', default: 'steps.basis.unclaimed' },
      { name: 'overdue', label: '逾期', type: 'integer', default: 'steps.basis.overdue' },
      { name: 'agenda', label: '议题', type: 'text', default: 'steps.basis.summary' },
    ],
  },
};

it('when a lookup reads open-items without a period and a form defaults to its counts and summary, then it is valid', () => {
  expect(problemsOf(withLookup({ source: 'open-items' }, PREPARE))).toEqual([]);
});

it('when an open-items lookup is given a period, then the period is named as not taken', () => {
  expect(problemsOf(withLookup({ source: 'open-items', period: 'data.year' }, PREPARE))).toEqual([
    ['steps[0].period', 'source open-items takes no period'],
  ]);
});

it('when a form reads a property another source leaves (people of open-items, unclaimed of dual-report-members), then the path is named with what the source has', () => {
  const people = problemsOf(withLookup({ source: 'open-items' }));
  expect(people.map(([path]) => path)).toEqual(['steps[1].form.fields[0].default']);
  expect(people[0]![1]).toContain('steps.basis (a lookup of open-items) has no "people"');
  expect(people[0]![1]).toContain('status, source, count, unclaimed, overdue, items, summary');
  const unclaimed = problemsOf(
    withLookup({ source: 'dual-report-members', period: 'data.year' }, PREPARE),
  );
  expect(unclaimed.map(([path]) => path)).toEqual([
    'steps[1].form.fields[0].default',
    'steps[1].form.fields[1].default',
  ]);
  expect(unclaimed[0]![1]).toContain(
    'steps.basis (a lookup of dual-report-members) has no "unclaimed"',
  );
});

const REVIEW = {
  id: 'review',
  name: '评议',
  type: 'task',
  candidates: [{ role: 'secretary', unit: 'parent' }],
  form: {
    fields: [
      {
        name: 'satisfaction',
        label: '满意度',
        type: 'number',
        min: 1,
        max: 5,
        default: 'steps.basis.satisfaction',
      },
      { name: 'grade', label: '等次', type: 'string', default: 'steps.basis.projectGrade' },
    ],
  },
};

it('when a lookup reads secretary-record with or without a period and a unit, and a form defaults to its figures, then it is valid', () => {
  expect(problemsOf(withLookup({ source: 'secretary-record' }, REVIEW))).toEqual([]);
  expect(
    problemsOf(withLookup({ source: 'secretary-record', period: 'data.year - 1' }, REVIEW)),
  ).toEqual([]);
  expect(
    problemsOf(withLookup({ source: 'secretary-record', unit: 'case.unitId' }, REVIEW)),
  ).toEqual([]);
});

it('when a form reads a property secretary-record does not leave, or its unit is a bad expression, then each is named with its path', () => {
  const task = {
    ...REVIEW,
    form: {
      fields: [
        { name: 'grade', label: '等次', type: 'string', default: 'steps.basis.grade' },
        { name: 'members', label: '党员', type: 'text', default: 'steps.basis.summary' },
      ],
    },
  };
  const problems = problemsOf(withLookup({ source: 'secretary-record', unit: 'data.unt' }, task));
  expect(problems.map(([path]) => path)).toEqual([
    'steps[0].unit',
    'steps[1].form.fields[0].default',
    'steps[1].form.fields[1].default',
  ]);
  expect(problems[0]![1]).toBe('bad expression: unknown field "data.unt"');
  expect(problems[1]![1]).toContain('steps.basis (a lookup of secretary-record) has no "grade"');
  expect(problems[1]![1]).toContain('projectGrade');
  expect(problems[2]![1]).toContain('has no "summary"');
});

it('when an overdue case has several deadlines, then its days count from the earliest missed one', () => {
  const now = Date.parse('2026-12-10T01:30:00Z');
  expect(
    daysOverdue(
      [
        { missed: false, dueAt: '2026-12-01T01:30:00.000Z' },
        { missed: true, dueAt: '2026-12-07T01:30:00.000Z' },
        { missed: true, dueAt: '2026-12-09T01:30:00.000Z' },
      ],
      now,
    ),
  ).toBe(3);
  expect(daysOverdue([{ missed: true, dueAt: null }], now)).toBe(0);
});

it('when the open items are more than 5,000 characters of agenda, then the summary stops with how many are left out', () => {
  const items = Array.from({ length: 100 }, (_, i) => ({
    kind: i < 50 ? ('unclaimed' as const) : ('overdue' as const),
    caseId: `case-${String(i).padStart(40, '0')}`,
    process: 'micro-wish',
    unit: 'u-grid',
    days: 100 - i,
  }));
  const summary = openItemsSummary(60, 70, items);
  expect(summary.length).toBeLessThanOrEqual(5000);
  expect(summary.split('\n')[0]).toBe('无人认领的需求 60 件，逾期未办结事项 70 件。');
  expect(summary.split('\n').at(-1)).toMatch(/^……另有 \d+ 件$/);
  expect(openItemsSummary(0, 0, [])).toBe('无人认领的需求 0 件，逾期未办结事项 0 件。');
});
