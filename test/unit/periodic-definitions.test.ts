import type { DefinitionProblem } from '../../lang/check';
import { validateDefinition } from '../../lang/check';
import { checkExpression, compileExpression, EvaluationError } from '../../lang/expression';
import { withInputDefaults } from '../../lang/case-data';
import type { FieldSpec } from '../../lang/definition';
import { scheduleSpecOf } from '../../services/schedules';
import { deadlineInstant } from '../../workflows/clocks';
import { scheduledCaseId } from '../../workflows/scheduled';

/**
 * The language for periodic processes: `schedule`, deadlines `at` a date, fan-out over the org
 * tree (`forEach: { units }`), the date functions, the Temporal calendar a schedule becomes and
 * the case id of a fire.
 */
const options = { knownTemplates: new Set(['task-assigned']) };

function definition(extra: Record<string, unknown>, steps?: unknown[]) {
  return {
    key: 'periodic-test',
    name: '周期流程',
    starters: ['admin'],
    input: {
      fields: [
        { name: 'focus', label: '重点', type: 'string' },
        { name: 'dueDate', label: '完成时限', type: 'date' },
      ],
    },
    steps: steps ?? [
      {
        id: 'work',
        name: '办理',
        type: 'task',
        candidates: [{ role: 'grid-worker' }],
        deadlines: [{ id: 'due', name: '时限', at: 'data.dueDate' }],
      },
      { id: 'closed', name: '结束', type: 'end' },
    ],
    ...extra,
  };
}

function problemsOf(raw: unknown): DefinitionProblem[] {
  const result = validateDefinition(raw, options);
  return result.ok ? [] : result.problems;
}

function problem(path: string, messagePart: string): DefinitionProblem {
  return { path, message: expect.stringContaining(messagePart) as string };
}

describe('schedule', () => {
  it('when a schedule names its period, day, time, unit and data, then it is valid with defaults filled in', () => {
    const result = validateDefinition(
      definition({ schedule: { every: 'quarter', unit: 'demo-county', data: { focus: '走访' } } }),
      options,
    );
    expect(result.ok && result.spec.schedule).toEqual({
      every: 'quarter',
      at: '09:00',
      unit: 'demo-county',
      data: { focus: '走访' },
    });
  });

  it('when the month does not fit the period, then it says how many months the period has', () => {
    expect(problemsOf(definition({ schedule: { every: 'quarter', month: 4 } }))).toEqual([
      problem('schedule.month', 'a quarter has 3 months'),
    ]);
    expect(problemsOf(definition({ schedule: { every: 'month', month: 1 } }))).toEqual([
      problem('schedule.month', 'leave month out'),
    ]);
  });

  it('when the data does not match the input fields, then each problem is under schedule.data', () => {
    const problems = problemsOf(
      definition({ schedule: { every: 'month', data: { focus: 3, other: 'x' } } }),
    );
    expect(problems.map((p) => p.path)).toContain('schedule.data.focus');
    expect(problems.length).toBeGreaterThanOrEqual(2);
    expect(problems.every((p) => p.path.startsWith('schedule.data'))).toBe(true);
  });

  it('when the day or time cannot be on every calendar, then the shape is refused', () => {
    const paths = problemsOf(
      definition({ schedule: { every: 'year', day: 29, at: '9:00', unit: 'a.b' } }),
    ).map((p) => p.path);
    expect(paths.sort()).toEqual(['schedule.at', 'schedule.day', 'schedule.unit']);
  });

  it('when a schedule becomes a Temporal calendar, then quarters and half-years start in the named month, Beijing time', () => {
    const quarterly = scheduleSpecOf({ every: 'quarter', month: 2, day: 5, at: '14:30', data: {} });
    expect(quarterly.timezone).toBe('Asia/Shanghai');
    expect(quarterly.calendars?.[0]).toMatchObject({
      month: ['FEBRUARY', 'MAY', 'AUGUST', 'NOVEMBER'],
      dayOfMonth: 5,
      hour: 14,
      minute: 30,
    });
    const halfYearly = scheduleSpecOf({ every: 'half-year', day: 1, at: '09:00', data: {} });
    expect(halfYearly.calendars?.[0]?.month).toEqual(['JANUARY', 'JULY']);
    const monthly = scheduleSpecOf({ every: 'month', at: '09:00', data: {} });
    expect(monthly.calendars?.[0]).toMatchObject({ dayOfMonth: 1, hour: 9, minute: 0 });
    expect(monthly.calendars?.[0]?.month).toBeUndefined();
  });

  it('when a round is the first Wednesday of each month (民情访谈日), then the calendar is the Wednesday among days 1–7', () => {
    // Act
    const result = validateDefinition(
      definition({ schedule: { every: 'month', week: 1, weekday: 'wednesday', at: '08:30' } }),
      options,
    );
    const calendar = result.ok ? scheduleSpecOf(result.spec.schedule!).calendars?.[0] : null;

    // Assert
    expect(calendar).toMatchObject({
      dayOfMonth: { start: 1, end: 7 },
      dayOfWeek: 'WEDNESDAY',
      hour: 8,
      minute: 30,
    });
    expect(calendar).not.toHaveProperty('month');
  });

  it('when a quarterly round is on the third Friday of its second month, then months, days 15–21 and Friday are all required', () => {
    // Act
    const calendar = scheduleSpecOf({
      every: 'quarter',
      month: 2,
      week: 3,
      weekday: 5,
      at: '09:00',
      data: {},
    }).calendars?.[0];

    // Assert
    expect(calendar).toMatchObject({
      month: ['FEBRUARY', 'MAY', 'AUGUST', 'NOVEMBER'],
      dayOfMonth: { start: 15, end: 21 },
      dayOfWeek: 'FRIDAY',
    });
  });

  it('when a round is weekly on Friday (周五志愿服务日) or daily (日汇总), then the calendar names the weekday or every day', () => {
    // Act
    const weekly = validateDefinition(
      definition({ schedule: { every: 'week', weekday: 5, at: '15:00' } }),
      options,
    );
    const daily = validateDefinition(
      definition({ schedule: { every: 'day', at: '17:30' } }),
      options,
    );

    // Assert
    expect(weekly.ok && scheduleSpecOf(weekly.spec.schedule!).calendars).toEqual([
      { dayOfWeek: 'FRIDAY', hour: 15, minute: 0, comment: 'every week' },
    ]);
    expect(daily.ok && scheduleSpecOf(daily.spec.schedule!).calendars).toEqual([
      { hour: 17, minute: 30, comment: 'every day' },
    ]);
  });

  it('when the day fields do not fit the period or each other, then each is named with what to write', () => {
    expect(problemsOf(definition({ schedule: { every: 'week' } }))).toEqual([
      problem('schedule.weekday', 'every: week needs the weekday'),
    ]);
    expect(problemsOf(definition({ schedule: { every: 'week', weekday: 1, day: 3 } }))).toEqual([
      problem('schedule.day', 'every: week has no day: leave day out'),
    ]);
    expect(problemsOf(definition({ schedule: { every: 'day', month: 2, weekday: 1 } }))).toEqual([
      problem('schedule.month', 'every: day has no month: leave month out'),
      problem('schedule.weekday', 'every: day starts every day: leave weekday out'),
    ]);
    expect(
      problemsOf(definition({ schedule: { every: 'month', day: 5, week: 1, weekday: 3 } })),
    ).toEqual([problem('schedule.day', 'give either a day of the month or a week and weekday')]);
    expect(problemsOf(definition({ schedule: { every: 'month', week: 2 } }))).toEqual([
      problem('schedule.weekday', 'week and weekday go together'),
    ]);
    expect(problemsOf(definition({ schedule: { every: 'month', weekday: 'someday' } }))).toEqual([
      problem('schedule.weekday', 'a weekday: 1 (Monday) to 7 (Sunday), or monday … sunday'),
    ]);
    expect(problemsOf(definition({ schedule: { every: 'month', week: 5, weekday: 3 } }))).toEqual([
      problem('schedule.week', 'expected number to be <=4'),
    ]);
  });

  it('when a round is scheduled for every unit of a type, then unit and unitsOfType exclude each other and under needs unitsOfType', () => {
    const every = { every: 'half-year', day: 1 };
    expect(
      problemsOf(definition({ schedule: { ...every, unitsOfType: 'street', under: 'c-1' } })),
    ).toEqual([]);
    expect(
      problemsOf(definition({ schedule: { ...every, unitsOfType: 'street', unit: 's-1' } })),
    ).toEqual([problem('schedule.unit', 'unitsOfType starts one case for each street')]);
    expect(problemsOf(definition({ schedule: { ...every, under: 'c-1' } }))).toEqual([
      problem('schedule.under', 'under limits unitsOfType to the units below one unit'),
    ]);
    expect(problemsOf(definition({ schedule: { ...every, unitsOfType: 'township' } }))).toEqual([
      expect.objectContaining({ path: 'schedule.unitsOfType' }),
    ]);
  });
});

describe('a schedule over several unit types, and input defaults', () => {
  const yearField = {
    name: 'year',
    label: '项目年度',
    type: 'integer',
    required: true,
    min: 2020,
    max: 2100,
    default: 'year(case.receivedAt)',
  };
  const withYear = (extra: Record<string, unknown>, field: Record<string, unknown> = yearField) => {
    const base = definition(extra);
    return { ...base, input: { fields: [...base.input.fields, field] } };
  };

  it('when a schedule lists community and street with a required field that has a default, then it is valid and the data may leave the field out', () => {
    // Act
    const result = validateDefinition(
      withYear({ schedule: { every: 'year', day: 5, unitsOfType: ['community', 'street'] } }),
      options,
    );

    // Assert
    expect(result.ok && result.spec.schedule?.unitsOfType).toEqual(['community', 'street']);
    expect(result.ok && result.spec.input.fields[2]?.default).toBe('year(case.receivedAt)');
  });

  it('when a unit type is listed twice, unknown or the list is empty, or a unit is named too, then each is refused by path', () => {
    expect(
      problemsOf(withYear({ schedule: { every: 'year', unitsOfType: ['street', 'street'] } })),
    ).toEqual([problem('schedule.unitsOfType[1]', 'street is listed twice')]);
    expect(
      problemsOf(withYear({ schedule: { every: 'year', unitsOfType: ['street', 'village'] } })).map(
        (p) => p.path,
      ),
    ).toEqual(['schedule.unitsOfType']);
    expect(
      problemsOf(withYear({ schedule: { every: 'year', unitsOfType: [] } })).map((p) => p.path),
    ).toEqual(['schedule.unitsOfType']);
    expect(
      problemsOf(
        withYear({
          schedule: { every: 'year', unitsOfType: ['community', 'street'], unit: 'demo-county' },
        }),
      ),
    ).toEqual([problem('schedule.unit', 'one case for each community and each street')]);
  });

  it('when an input default reads data or steps, does not compile or sits on a list field, or a form default reads an unknown step, then it is refused by path', () => {
    const field = (extra: Record<string, unknown>) => withYear({}, { ...yearField, ...extra });
    expect(problemsOf(field({ default: 'data.other' }))).toEqual([
      problem('input.fields[2].default', 'bad expression'),
    ]);
    expect(problemsOf(field({ default: 'year(case.receivedAt' }))).toEqual([
      problem('input.fields[2].default', 'bad expression'),
    ]);
    expect(problemsOf(field({ multiple: true }))).toEqual([
      problem('input.fields[2].default', 'a list field takes no default'),
    ]);
    const withFormDefault = definition({}, [
      {
        id: 'work',
        name: '办理',
        type: 'task',
        candidates: [{ role: 'grid-worker' }],
        form: {
          fields: [
            { name: 'note', label: '备注', type: 'string', default: "'无'" },
            { name: 'year', label: '年度', type: 'integer', default: 'steps.later.outcome' },
          ],
        },
      },
      { id: 'closed', name: '结束', type: 'end' },
    ]);
    // A task form's default prefills it as the task opens (docs 6.16): it reads steps, so an
    // unknown one is named; a constant is fine.
    expect(problemsOf(withFormDefault)).toEqual([
      problem('steps[0].form.fields[1].default', 'unknown step "steps.later"'),
    ]);
  });

  it('when a start leaves a defaulted field out, then the default fills it in Beijing time, and a given value, a failing default or one its field refuses is kept or left out', () => {
    // Arrange
    const fields = [
      { ...yearField, required: true, multiple: false, personal: false } as FieldSpec,
      {
        name: 'early',
        label: '越界',
        type: 'integer',
        required: false,
        multiple: false,
        personal: false,
        max: 2000,
        default: 'year(case.receivedAt)',
      } as FieldSpec,
      {
        name: 'fromUnit',
        label: '单位年度',
        type: 'integer',
        required: false,
        multiple: false,
        personal: false,
        default: 'year(case.unitId)',
      } as FieldSpec,
    ];
    const facts = {
      id: 'case-1',
      unitId: 'u-1',
      channel: 'schedule',
      definition: 'secretary-project',
      // 5 January 2027, 09:00 Beijing time; the last evening of 2026 in UTC is 2027 here too
      receivedAt: '2027-01-05T01:00:00.000Z',
    };
    const given = { year: 2026 };

    // Act
    const filled = withInputDefaults(fields, {}, facts);
    const lastEvening = withInputDefaults(
      fields,
      { year: null },
      {
        ...facts,
        receivedAt: '2026-12-31T16:30:00.000Z',
      },
    );
    const kept = withInputDefaults(fields, given, facts);

    // Assert: `early` (max 2000) and `fromUnit` (no date) stay missing
    expect(filled).toEqual({ year: 2027 });
    expect(lastEvening).toEqual({ year: 2027 });
    expect(kept).toBe(given);
  });
});

describe('deadlines at a date', () => {
  it('when a deadline has both within and at, or neither, then it asks for exactly one', () => {
    const steps = (deadline: Record<string, unknown>) => [
      {
        id: 'work',
        name: '办理',
        type: 'task',
        candidates: [{ role: 'grid-worker' }],
        deadlines: [{ id: 'due', name: '时限', ...deadline }],
      },
      { id: 'closed', name: '结束', type: 'end' },
    ];
    const message = 'exactly one of within (a duration) and at';
    expect(problemsOf(definition({}, steps({ within: 'P1D', at: 'data.dueDate' })))).toEqual([
      problem('steps[0].deadlines[0]', message),
    ]);
    expect(problemsOf(definition({}, steps({})))).toEqual([
      problem('steps[0].deadlines[0]', message),
    ]);
  });

  it('when at reads an unknown field or step, then it is a bad expression', () => {
    expect(
      problemsOf(definition({ deadlines: [{ id: 'd', name: 'x', at: 'data.nope' }] })),
    ).toEqual([problem('deadlines[0].at', 'unknown field "data.nope"')]);
  });

  it('when at gives a date, then the deadline is the end of that day in Beijing; an instant is itself; anything else is none', () => {
    expect(new Date(deadlineInstant('2026-12-15')!).toISOString()).toBe('2026-12-15T16:00:00.000Z');
    expect(deadlineInstant('2026-12-15T09:00:00+08:00')).toBe(Date.parse('2026-12-15T01:00:00Z'));
    expect(deadlineInstant(null)).toBeNull();
    expect(deadlineInstant('next week')).toBeNull();
  });
});

describe('forEach over the org tree', () => {
  const fanOut = (forEach: unknown, extra: Record<string, unknown> = {}) => [
    { id: 'grids', name: '各网格', type: 'subprocess', definition: 'report', forEach, ...extra },
    { id: 'closed', name: '结束', type: 'end' },
  ];

  it('when units name a type within a unit reference, then item and index may be used', () => {
    expect(
      problemsOf(
        definition(
          {},
          fanOut(
            { units: { type: 'grid', within: 'street' } },
            { data: { grid: 'item', n: 'index' } },
          ),
        ),
      ),
    ).toEqual([]);
  });

  it('when the type is unknown or the unit is the assignee’s, then each is reported', () => {
    expect(problemsOf(definition({}, fanOut({ units: { type: 'village' } })))[0]?.path).toBe(
      'steps[0].forEach',
    );
    expect(
      problemsOf(definition({}, fanOut({ units: { type: 'grid', within: 'assignee' } }))),
    ).toEqual([problem('steps[0].forEach.units.within', 'only exists on a task')]);
  });
});

describe('date functions', () => {
  const evaluate = (source: string, data: Record<string, unknown> = {}) =>
    compileExpression(source).evaluate({ data });

  it('when dates are shifted, then months keep the day or take the month’s last, instants keep their Beijing time', () => {
    expect(evaluate("addMonths('2026-01-31', 1)")).toBe('2026-02-28');
    expect(evaluate("addMonths('2026-12-15', -3)")).toBe('2026-09-15');
    expect(evaluate("addDays('2026-03-01', -1)")).toBe('2026-02-28');
    expect(evaluate("addDays('2026-03-31T16:30:00Z', 1)")).toBe('2026-04-02T00:30:00+08:00');
    expect(evaluate("date('2026-03-31T16:30:00Z')")).toBe('2026-04-01');
    expect(evaluate('addDays(data.missing, 3)')).toBeNull();
    expect(evaluate("addDays(addMonths(date('2026-10-01T09:00:00+08:00'), 3), -1)")).toBe(
      '2026-12-31',
    );
  });

  it('when days are added across years and leap days, then the calendar agrees with the platform’s', () => {
    const start = Date.UTC(2023, 11, 1);
    for (let i = -800; i <= 3000; i += 7) {
      const expected = new Date(start + i * 24 * 3600_000).toISOString().slice(0, 10);
      expect(evaluate(`addDays('2023-12-01', ${i})`)).toBe(expected);
    }
    expect(evaluate("addMonths('2024-02-29', 12)")).toBe('2025-02-28');
    expect(evaluate("addMonths('2024-03-31', -1)")).toBe('2024-02-29');
    expect(evaluate("addMonths('2026-11-30', 14)")).toBe('2028-01-30');
  });

  it('when a date function gets no date or no whole number, then it is an evaluation error naming the type only', () => {
    expect(() => evaluate("addDays('2026-02-30', 1)")).toThrow(EvaluationError);
    expect(() => evaluate("addDays('2026-02-01', 1.5)")).toThrow(/whole number/);
    expect(() => evaluate('date(data.x)', { x: 12 })).toThrow(/got a number/);
    expect(checkExpression("addDays('2026-02-01')", new Set(['data']))).toContain('2 arguments');
  });
});

describe('the case id of a schedule fire', () => {
  it('when the same fire is named twice, then it gives the same case id; another fire another', () => {
    const fire = 'schedule-dispute-screening-2026-05-01T01:00:00Z';
    expect(scheduledCaseId(fire)).toMatch(/^case-[0-9a-f]{24}$/);
    expect(scheduledCaseId(fire)).toBe(scheduledCaseId(fire));
    const months = Array.from(
      { length: 120 },
      (_, i) =>
        `schedule-dispute-screening-${2026 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-01T01:00:00Z`,
    );
    expect(new Set(months.map(scheduledCaseId)).size).toBe(120);
  });
});
